using System.Text.Json;
using System.Text.Json.Nodes;

namespace OptNeurons.Loading;

/// <summary>
/// Which weight files a HuggingFace snapshot folder holds, chosen in the order transformers' from_pretrained checks a
/// local folder (modeling_utils.py, _get_resolved_checkpoint_files): model.safetensors, its sharded index, then
/// pytorch_model.bin and its sharded index. Where a folder holds several, the others are never read.
/// </summary>
/// <param name="Layout">"safetensors-sharded", "safetensors", "bin-sharded" or "bin".</param>
/// <param name="Index">The index file for a sharded layout, else null.</param>
/// <param name="Files">Full paths of the weight files (the shards, in index order, or the single file).</param>
/// <param name="WeightMap">For a sharded layout, the index's stored name -> shard path; else empty.</param>
sealed record CheckpointFiles(string Layout, string? Index, IReadOnlyList<string> Files, IReadOnlyDictionary<string, string> WeightMap)
{
    static readonly (string File, string Layout, bool Sharded)[] Candidates =
    [
        ("model.safetensors", "safetensors", false),
        ("model.safetensors.index.json", "safetensors-sharded", true),
        ("pytorch_model.bin", "bin", false),
        ("pytorch_model.bin.index.json", "bin-sharded", true),
    ];

    internal static bool IsSafeTensors(string layout) => layout.StartsWith("safetensors", StringComparison.Ordinal);

    public static CheckpointFiles Resolve(string directory)
    {
        foreach (var (name, layout, sharded) in Candidates)
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path)) continue;
            return sharded ? ReadIndex(path, layout) : new CheckpointFiles(layout, null, [path], new Dictionary<string, string>());
        }
        var present = System.IO.Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal).Take(20);
        throw new FileNotFoundException(
            $"{directory}: no weight file found; looked for {string.Join(", ", Candidates.Select(c => c.File))}. " +
            $"The folder holds: {string.Join(", ", present)}. (TensorFlow/Flax-only snapshots are not supported.)");
    }

    static CheckpointFiles ReadIndex(string index, string layout)
    {
        JsonObject? weightMap;
        try { weightMap = JsonNode.Parse(File.ReadAllText(index))?["weight_map"] as JsonObject; }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        { throw new InvalidDataException($"{index}: not a valid index file ({e.Message}).", e); }
        if (weightMap is null || weightMap.Count == 0)
            throw new InvalidDataException($"{index}: the index has no \"weight_map\" object mapping tensor names to shard files.");

        var directory = Path.GetDirectoryName(Path.GetFullPath(index))!;
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var files = new List<string>();
        foreach (var (name, node) in weightMap)
        {
            var shard = node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            if (string.IsNullOrEmpty(shard) || Path.IsPathRooted(shard) || shard.Split('/', '\\').Contains(".."))
                throw new InvalidDataException($"{index}: weight_map entry '{name}' names shard '{node?.ToJsonString()}'; expected a file name in the same folder.");
            var path = Path.Combine(directory, shard);
            if (!File.Exists(path))
                throw new FileNotFoundException($"{index}: weight_map entry '{name}' names shard '{shard}', which does not exist in {directory} (incomplete download?).", path);
            map[name] = path;
            if (!files.Contains(path)) files.Add(path);
        }
        return new CheckpointFiles(layout, index, files, map);
    }
}
