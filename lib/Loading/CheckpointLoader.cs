using System.Text;
using OptNeurons.Model;
using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Loading;

/// <summary>
/// Copies checkpoint tensors into a module's own parameters and buffers, strictly: every target entry must be found
/// with the right shape and every checkpoint tensor under the prefix must be used, or nothing is copied and one error
/// lists every problem.
/// </summary>
public static class CheckpointLoader
{
    const string EmbedTokens = "model.decoder.embed_tokens.weight";
    const string LmHead = "lm_head.weight";
    const int ListedPerKind = 25;

    /// <summary>
    /// Loads the checkpoint tensors named <c>prefix + key</c> into <c>target.state_dict()[key]</c>. With prefix "" the
    /// target is OPTForCausalLM-shaped (its keys are the canonical names); with <c>model.decoder.layers.7.</c> it is
    /// one decoder layer, and only that layer's tensors are read. Values are copied in place under no_grad, so the
    /// module keeps its parameter objects (hooks and tied weights survive).
    /// </summary>
    /// <param name="dtype">Dtype the stored values are converted to before the copy; null converts straight to each
    /// target entry's dtype. (A dtype different from the target's rounds the values through it.)</param>
    /// <param name="readAhead">This prefix's tensors, already read on another thread; null reads them here.</param>
    public static void Load(nn.Module target, Checkpoint checkpoint, string prefix = "", ScalarType? dtype = null, ReadAhead? readAhead = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0 && !prefix.EndsWith('.'))
            throw new ArgumentException($"prefix '{prefix}' must end with '.' (e.g. 'model.decoder.layers.7.'); without it 'layers.1' would also match 'layers.10'.", nameof(prefix));
        if (readAhead is not null && readAhead.Prefix != prefix)
            throw new ArgumentException($"the tensors read ahead are those under '{readAhead.Prefix}', not '{prefix}'.", nameof(readAhead));
        TorchRuntime.Initialize();
        var plan = Match(target, checkpoint, prefix);

        using var noGrad = no_grad();
        foreach (var group in plan.GroupBy(p => p.Source))
        {
            using var scope = NewDisposeScope();
            var first = group.First().Destination;
            var value = readAhead is null ? checkpoint.Read(group.Key.Name, dtype ?? first.dtype, first.device)
                                          : readAhead.Tensors[group.Key.Name].to(dtype ?? first.dtype, first.device);
            foreach (var (_, destination) in group) destination.copy_(value);
        }
    }

    /// <summary>
    /// Checks, before a byte is allocated, that the checkpoint holds exactly the tensors of the model its config
    /// describes, in their shapes: a config that does not fit its weights (a wrong vocab_size, ffn_dim, layer count, …)
    /// is one error naming every tensor at fault, not an allocation failure or a mismatch found layers into a run. The
    /// model is built on the meta device, which gives tensors their shapes and no storage.
    /// </summary>
    public static void CheckShapes(Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        TorchRuntime.Initialize();
        using var shapes = new OptForCausalLM(checkpoint.Config, new Device("meta"), ScalarType.Float32);
        Match(shapes, checkpoint, "");
    }

    /// <summary>Pairs every entry of <paramref name="target"/> with its checkpoint tensor, or throws one error listing every problem.</summary>
    static List<(CheckpointTensor Source, Tensor Destination)> Match(nn.Module target, Checkpoint checkpoint, string prefix)
    {
        var config = checkpoint.Config;
        var destinations = target.state_dict();
        var missing = new List<string>();
        var mismatched = new List<string>();
        var notFloat = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        var plan = new List<(CheckpointTensor Source, Tensor Destination)>();
        foreach (var (key, destination) in destinations)
        {
            var name = prefix + key;
            // Tied (HF's default): lm_head is embed_tokens, whatever the file stores as lm_head. A module that shares the
            // tensor gets the same values twice; one that does not is still given the right ones.
            var sourceName = config.TieWordEmbeddings && name == LmHead ? EmbedTokens : name;
            if (!checkpoint.Tensors.TryGetValue(sourceName, out var source))
            {
                missing.Add(sourceName == name ? name : $"{name} (tied to {sourceName}, which is not stored either)");
                continue;
            }
            used.Add(sourceName);
            if (!source.Shape.SequenceEqual(destination.shape))
                mismatched.Add($"{name}: checkpoint {source.ShapeText} in {Path.GetFileName(source.File)}, model [{string.Join(", ", destination.shape)}]");
            else if (!FloatDtypes.Contains(source.Dtype))   // integer or bool bytes would be cast to numbers silently
                notFloat.Add($"{name}: {source.Dtype} in {Path.GetFileName(source.File)}");
            else
                plan.Add((source, destination));
        }
        var unexpected = checkpoint.Tensors.Values
            .Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal) && !used.Contains(t.Name) && !Ignorable(t.Name, checkpoint))
            .Select(t => $"{t.Name} (in {Path.GetFileName(t.File)})").Order(StringComparer.Ordinal).ToList();
        if (missing.Count + mismatched.Count + unexpected.Count + notFloat.Count > 0)
            throw new InvalidDataException(Describe(checkpoint, prefix, missing, unexpected, mismatched, notFloat));
        return plan;
    }

    static readonly HashSet<ScalarType> FloatDtypes = [ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float32, ScalarType.Float64];

    /// <summary>Stored tensors HF's OPTForCausalLM does not use, which a strict load must not call unexpected.</summary>
    static bool Ignorable(string name, Checkpoint checkpoint) =>
        (name == LmHead && checkpoint.Config.TieWordEmbeddings)
        || (name.StartsWith("model.decoder.final_layer_norm.", StringComparison.Ordinal) && !checkpoint.Config.HasFinalLayerNorm);

    static string Describe(Checkpoint checkpoint, string prefix, List<string> missing, List<string> unexpected, List<string> mismatched, List<string> notFloat)
    {
        var files = checkpoint.Index is null ? string.Join(", ", checkpoint.Files.Select(Path.GetFileName))
                                             : $"{Path.GetFileName(checkpoint.Index)} -> {string.Join(", ", checkpoint.Files.Select(Path.GetFileName))}";
        var text = new StringBuilder($"{checkpoint.Directory} ({checkpoint.Layout}: {files}) does not match the model its config.json describes");
        text.Append(prefix.Length > 0 ? $" under prefix '{prefix}':" : ":");
        void List(string title, List<string> items)
        {
            if (items.Count == 0) return;
            text.Append($"\n  {title} ({items.Count}):");
            foreach (var item in items.Take(ListedPerKind)) text.Append($"\n    {item}");
            if (items.Count > ListedPerKind) text.Append($"\n    ... and {items.Count - ListedPerKind} more");
        }
        List("missing from the checkpoint", missing);
        List("unexpected in the checkpoint (not in the model)", unexpected);
        List("shape mismatch", mismatched);
        List("stored as integers or booleans, not as floating-point weights (float32, float16, bfloat16 or float64)", notFloat);
        return text.ToString();
    }
}
