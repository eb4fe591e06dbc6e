using OptNeurons.Model;
using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Loading;

/// <summary>
/// A HuggingFace OPT snapshot folder: its config and an index of every stored tensor (from file headers only), under
/// canonical names. Tensors are read one at a time, each from the one file that holds it, so a model can be loaded
/// layer by layer. Holds no open files: every read opens and closes its file.
/// </summary>
public sealed class Checkpoint
{
    Checkpoint(string directory, OptConfig config, CheckpointFiles files, IReadOnlyDictionary<string, CheckpointTensor> tensors)
    {
        Directory = directory;
        Config = config;
        Layout = files.Layout;
        Index = files.Index;
        Files = files.Files;
        Tensors = tensors;
    }

    /// <summary>Full path of the snapshot folder.</summary>
    public string Directory { get; }
    public OptConfig Config { get; }
    /// <summary>"safetensors-sharded", "safetensors", "bin-sharded" or "bin".</summary>
    public string Layout { get; }
    /// <summary>The shard index file, for sharded layouts.</summary>
    public string? Index { get; }
    /// <summary>Full paths of the weight files in use.</summary>
    public IReadOnlyList<string> Files { get; }
    /// <summary>Every stored tensor by canonical name (<c>model.decoder.…</c>, <c>lm_head.weight</c>).</summary>
    public IReadOnlyDictionary<string, CheckpointTensor> Tensors { get; }

    /// <summary>The canonical name used by HF's OPTForCausalLM for a stored key: files saved from an OPTModel lack "model.".</summary>
    public static string CanonicalName(string storedName) =>
        storedName.StartsWith("decoder.", StringComparison.Ordinal) ? "model." + storedName : storedName;

    /// <summary>
    /// A fingerprint of the weight files of a snapshot folder: first 16 hex digits of SHA-256 over each file's name and
    /// length and 32 blocks of 4 KiB spread evenly over it, first and last included. Retrained, fine-tuned or replaced
    /// weights change it, as do most edits; reading whole files would take minutes at 66b, so a change confined to bytes
    /// it does not sample goes unseen. Copies of the same files share it, whatever their paths and times.
    /// </summary>
    public static string WeightsFingerprint(string directory)
    {
        const int Blocks = 32, BlockBytes = 4096;
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var block = new byte[BlockBytes];
        foreach (var path in CheckpointFiles.Resolve(Path.GetFullPath(directory)).Files)
        {
            using var file = File.OpenRead(path);
            long length = file.Length;
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes($"{Path.GetFileName(path)}\t{length}\n"));
            for (int i = 0; i < Blocks; i++)
            {
                file.Position = Math.Max(0, length - BlockBytes) * i / (Blocks - 1);
                sha.AppendData(block, 0, file.ReadAtLeast(block, BlockBytes, throwOnEndOfStream: false));
            }
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    /// <summary>Reads config.json and every weight file's header (no tensor data) and checks that they agree.</summary>
    public static Checkpoint Open(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        TorchRuntime.Initialize();
        var full = Path.GetFullPath(directory);
        if (File.Exists(full))
            throw new DirectoryNotFoundException($"{full} is a file; expected a HuggingFace snapshot folder with config.json and weights (give the folder that holds it).");
        if (!System.IO.Directory.Exists(full))
            throw new DirectoryNotFoundException($"{full}: checkpoint folder does not exist; expected a HuggingFace snapshot folder with config.json and weights.");
        if (!System.IO.Directory.EnumerateFileSystemEntries(full).Any())
            throw new FileNotFoundException($"{full}: checkpoint folder is empty; expected config.json and weights (model.safetensors or pytorch_model.bin).");
        var configPath = Path.Combine(full, "config.json");
        if (!File.Exists(configPath) && System.IO.Directory.Exists(Path.Combine(full, "snapshots")))
            throw new FileNotFoundException($"{configPath} not found: {full} looks like a HuggingFace cache repository folder; pass its snapshots/<revision> subfolder instead.", configPath);

        var config = OptConfig.Load(configPath);
        var files = CheckpointFiles.Resolve(full);
        var tensors = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        foreach (var file in files.Files)
            foreach (var stored in ReadHeader(file, files.Layout))
            {
                if (tensors.TryGetValue(stored.Name, out var other))
                    throw new InvalidDataException($"{full}: tensor '{stored.Name}' is stored twice: as '{other.StoredName}' in {Path.GetFileName(other.File)} " +
                                                   $"and as '{stored.StoredName}' in {Path.GetFileName(stored.File)}.");
                tensors[stored.Name] = stored;
            }
        foreach (var (name, shard) in files.WeightMap)
            if (!tensors.TryGetValue(CanonicalName(name), out var t) || t.File != shard)
                throw new InvalidDataException($"{files.Index}: weight_map says '{name}' is in {Path.GetFileName(shard)}, but that shard does not hold it" +
                                               (t is null ? "." : $" (it is in {Path.GetFileName(t.File)})."));
        return new Checkpoint(full, config, files, tensors);
    }

    /// <summary>
    /// Reads one tensor, from the one file that holds it, and converts it to <paramref name="dtype"/> on
    /// <paramref name="device"/>. The caller owns the result (it is registered in the caller's dispose scope, if any).
    /// </summary>
    public Tensor Read(string canonicalName, ScalarType dtype, Device device)
    {
        if (!Tensors.TryGetValue(canonicalName, out var entry))
            throw new KeyNotFoundException($"{Directory} ({Layout}): no tensor named '{canonicalName}'. Names are canonical " +
                                           "(model.decoder.…, lm_head.weight); a tied lm_head is usually not stored: read model.decoder.embed_tokens.weight.");
        using var scope = NewDisposeScope();
        return entry.ReadStored().to(dtype, device).MoveToOuterDisposeScope();
    }

    static IEnumerable<CheckpointTensor> ReadHeader(string file, string layout)
    {
        RefuseLfsPointer(file);
        if (CheckpointFiles.IsSafeTensors(layout))
            return SafeTensors.ReadHeader(file).Entries.Values.Select(e =>
                new CheckpointTensor(CanonicalName(e.Name), e.Name, file, e.Dtype, e.Shape, destination => SafeTensors.ReadInto(e, destination)));
        return TorchPickle.ReadIndex(file).Values.Select(e =>
            new CheckpointTensor(CanonicalName(e.Name), e.Name, file, e.Dtype, e.Shape, destination => TorchPickle.ReadInto(e, destination)));
    }

    /// <summary>A clone without `git lfs pull` leaves ~130-byte text pointers where the weights should be.</summary>
    static void RefuseLfsPointer(string file)
    {
        const string pointer = "version https://git-lfs";
        using var stream = File.OpenRead(file);
        var start = new byte[pointer.Length];
        int read = stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        if (read == start.Length && System.Text.Encoding.ASCII.GetString(start) == pointer)
            throw new InvalidDataException($"{file}: this is a Git LFS pointer file, not the weights; fetch them (git lfs pull, or download with huggingface-cli).");
    }

    public override string ToString() => $"{Directory} ({Layout}, {Tensors.Count} tensors)";
}
