using System.Text.Json;
using System.Text.Json.Nodes;
using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Runtime;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Support;

/// <summary>How <see cref="CheckpointWriter"/> lays out the weights, named as <see cref="Checkpoint.Layout"/> reports them.</summary>
public enum CheckpointFormat { SafeTensors, SafeTensorsSharded, Bin, BinSharded }

/// <summary>
/// Writes synthetic HuggingFace snapshot folders (config.json + weights) in every layout the loader reads, so tests
/// can build the checkpoint they need: <c>CheckpointWriter.Write(dir, tensors, config, CheckpointFormat.BinSharded)</c>.
/// </summary>
public static class CheckpointWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> (keyed by canonical names, <c>model.decoder.…</c> / <c>lm_head.weight</c>) and
    /// <paramref name="config"/> into <paramref name="directory"/> (created if needed) and returns the directory.
    /// </summary>
    /// <param name="config">An <see cref="OptConfig"/> (written with torch_dtype set to <paramref name="dtype"/>), or a
    /// JSON string written verbatim (for configs the loader must refuse).</param>
    /// <param name="dtype">Storage dtype; tensors are converted to it.</param>
    /// <param name="modelPrefix">false stores <c>decoder.…</c> keys, as checkpoints saved from an OPTModel do.</param>
    /// <param name="shards">Number of shards for the sharded formats; tensors are split in name order.</param>
    /// <param name="shardOf">Optional: the shard (0-based) of each canonical name, overriding the split.</param>
    public static string Write(string directory, IReadOnlyDictionary<string, Tensor> tensors, object config,
                               CheckpointFormat format = CheckpointFormat.SafeTensors, ScalarType dtype = ScalarType.Float32,
                               bool modelPrefix = true, int shards = 2, Func<string, int>? shardOf = null)
    {
        TorchRuntime.Initialize();
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.json"), config switch
        {
            string json => json,
            OptConfig c => JsonSerializer.Serialize(c with { TorchDtype = TorchRuntime.DtypeName(dtype), Dtype = null }),
            _ => JsonSerializer.Serialize(config),
        });

        using var scope = NewDisposeScope();
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        // A fresh contiguous copy with storage offset 0: PyBridge's pickler writes the tensor's bytes but its own strides.
        var stored = names.ToDictionary(n => modelPrefix ? n : Unprefixed(n), n => tensors[n].detach().cpu().to(dtype).clone(), StringComparer.Ordinal);
        bool sharded = format is CheckpointFormat.SafeTensorsSharded or CheckpointFormat.BinSharded;
        bool bin = format is CheckpointFormat.Bin or CheckpointFormat.BinSharded;
        if (!sharded)
        {
            WriteFile(Path.Combine(directory, bin ? "pytorch_model.bin" : "model.safetensors"), stored, bin);
            return directory;
        }

        var shardIndex = names.Select((n, i) => (Stored: modelPrefix ? n : Unprefixed(n), Shard: shardOf?.Invoke(n) ?? i * shards / names.Count)).ToList();
        string FileName(int k) => bin ? $"pytorch_model-{k + 1:00000}-of-{shards:00000}.bin" : $"model-{k + 1:00000}-of-{shards:00000}.safetensors";
        for (int k = 0; k < shards; k++)
        {
            var part = shardIndex.Where(s => s.Shard == k).ToDictionary(s => s.Stored, s => stored[s.Stored], StringComparer.Ordinal);
            WriteFile(Path.Combine(directory, FileName(k)), part, bin);
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = stored.Values.Sum(t => t.NumberOfElements * t.ElementSize) },
            ["weight_map"] = new JsonObject(shardIndex.Select(s => KeyValuePair.Create(s.Stored, (JsonNode?)FileName(s.Shard)))),
        };
        File.WriteAllText(Path.Combine(directory, bin ? "pytorch_model.bin.index.json" : "model.safetensors.index.json"), index.ToJsonString());
        return directory;
    }

    /// <summary>Writes one weight file: safetensors with HF's metadata, or a zip-format torch.save state dict.</summary>
    public static void WriteFile(string path, IReadOnlyDictionary<string, Tensor> tensors, bool bin)
    {
        if (!bin)
        {
            SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
            return;
        }
        using var file = File.Create(path);   // not PickleStateDict(path, ...): File.OpenWrite would not truncate an old file
        PyTorchPickler.PickleStateDict(file, tensors.ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    /// <summary>Copies config.json and the named files of <paramref name="source"/> into a new folder under <paramref name="root"/>.</summary>
    public static string CopySubset(string source, string root, string name, params string[] files)
    {
        var target = Directory.CreateDirectory(Path.Combine(root, name)).FullName;
        foreach (var file in files.Prepend("config.json")) File.Copy(Path.Combine(source, file), Path.Combine(target, file));
        return target;
    }

    static string Unprefixed(string name) => name.StartsWith("model.", StringComparison.Ordinal) ? name["model.".Length..] : name;
}
