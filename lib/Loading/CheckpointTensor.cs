using static TorchSharp.torch;

namespace OptNeurons.Loading;

/// <summary>
/// One tensor of a checkpoint, known from the file headers alone: its canonical name (HF's OPTForCausalLM state-dict
/// name), the name it is stored under, the file holding it, and its stored dtype and shape.
/// </summary>
public sealed class CheckpointTensor
{
    readonly Func<Tensor> read;

    internal CheckpointTensor(string name, string storedName, string file, ScalarType dtype, long[] shape, Func<Tensor> read)
    {
        Name = name;
        StoredName = storedName;
        File = file;
        Dtype = dtype;
        Shape = shape;
        this.read = read;
    }

    /// <summary>Canonical name: <c>model.decoder.…</c> or <c>lm_head.weight</c>.</summary>
    public string Name { get; }
    /// <summary>The key in the file, e.g. <c>decoder.layers.0.fc1.weight</c> in checkpoints saved from an OPTModel.</summary>
    public string StoredName { get; }
    /// <summary>Full path of the file (or shard) holding the tensor.</summary>
    public string File { get; }
    public ScalarType Dtype { get; }
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Reads the stored bytes onto the CPU in the stored dtype; failures name the file and the key.</summary>
    internal Tensor ReadStored()
    {
        try { return read(); }
        catch (IOException e) when (!e.Message.Contains(File, StringComparison.Ordinal))
        {
            throw new IOException($"{File}: reading tensor '{StoredName}' failed: {e.Message}", e);
        }
    }

    internal string ShapeText => $"[{string.Join(", ", Shape)}]";

    public override string ToString() => $"{Name} {Dtype} {ShapeText} in {Path.GetFileName(File)}";
}
