using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Runtime;
using OptNeurons.Tokenization;
using static TorchSharp.torch;

namespace OptNeurons.Training;

/// <summary>
/// Writes a model as a HuggingFace OPT snapshot folder: config.json (HF's field names), model.safetensors (HF's key
/// names, the tied lm_head omitted as save_pretrained does) and OPT's tokenizer files. Pretrained.Load reads it back.
/// </summary>
public static class HfSnapshot
{
    public const string ConfigFile = "config.json", WeightsFile = "model.safetensors";
    static readonly string[] TokenizerFiles = ["vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"];
    // Relaxed escaping so "prefix" reads "</s>" as in HF's files, not "\u003C/s\u003E".
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Writes config, weights (converted to <paramref name="dtype"/>) and the tokenizer files of <paramref name="tokenizerDir"/>.</summary>
    public static void Write(OptForCausalLM model, string directory, ScalarType dtype, string tokenizerDir)
    {
        Directory.CreateDirectory(directory);
        WriteConfig(model.Config, directory, dtype);
        WriteWeights(model, Path.Combine(directory, WeightsFile), dtype);
        foreach (var file in TokenizerFiles) File.Copy(Path.Combine(tokenizerDir, file), Path.Combine(directory, file), overwrite: true);
    }

    /// <summary>
    /// Writes a snapshot (plus whatever <paramref name="extra"/> adds) into a temporary folder, then renames it into
    /// place. An older snapshot there is renamed aside first and deleted last, so a crash between the renames leaves it
    /// as <c>DIR.old</c>, never lost.
    /// </summary>
    public static void WriteAtomically(OptForCausalLM model, string directory, ScalarType dtype, string tokenizerDir, Action<string>? extra = null)
    {
        string temp = directory + ".tmp", old = directory + ".old";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Write(model, temp, dtype, tokenizerDir);
        extra?.Invoke(temp);
        if (Directory.Exists(directory))
        {
            if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
            Directory.Move(directory, old);
        }
        Directory.Move(temp, directory);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    /// <summary>config.json as transformers writes it for OPT (keys sorted), plus position_embedding_type for NoPos.</summary>
    public static void WriteConfig(OptConfig config, string directory, ScalarType dtype)
    {
        var json = JsonSerializer.SerializeToNode(config)!.AsObject();
        foreach (var key in json.Where(kv => kv.Value is null).Select(kv => kv.Key).ToList()) json.Remove(key);
        if (config.HasLearnedPositions) json.Remove("position_embedding_type");   // HF's OPT has no such key; only NoPos needs it
        json["word_embed_proj_dim"] = config.WordEmbedProjDim;
        json["torch_dtype"] = TorchRuntime.DtypeName(dtype);
        json["architectures"] = new JsonArray("OPTForCausalLM");
        json["activation_dropout"] = 0.0;   // present in every facebook/opt-* config; unused by the model
        json["layerdrop"] = 0.0;
        json["prefix"] = "</s>";
        json["use_cache"] = true;
        var sorted = new JsonObject(json.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), sorted.ToJsonString(Indented) + "\n");
    }

    /// <summary>The state dict under HF's names, without lm_head.weight when it is tied to the embedding.</summary>
    public static void WriteWeights(OptForCausalLM model, string path, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var tensors = model.state_dict()
            .Where(kv => !(kv.Key == "lm_head.weight" && model.Config.TieWordEmbeddings))
            .ToDictionary(kv => kv.Key, kv => kv.Value.detach().to(dtype), StringComparer.Ordinal);
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>OPT's tokenizer files, written once into <paramref name="directory"/> (atomically) and copied into every checkpoint.</summary>
    public static string EnsureTokenizer(string directory)
    {
        if (TokenizerFiles.All(f => File.Exists(Path.Combine(directory, f)))) return directory;
        var temp = directory + $".{Environment.ProcessId}.tmp";
        Directory.CreateDirectory(temp);
        foreach (var (name, bytes) in OptTokenizerFiles.Value) File.WriteAllBytes(Path.Combine(temp, name), bytes);
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);   // an incomplete earlier attempt
        Directory.Move(temp, directory);
        return directory;
    }

    /// <summary>Generating the files takes seconds (merges are recovered from the ranks), so a process does it once.</summary>
    static readonly Lazy<Dictionary<string, byte[]>> OptTokenizerFiles = new(() =>
    {
        var temp = Path.Combine(Path.GetTempPath(), $"optneurons-tokenizer-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Gpt2VocabularyFiles.WriteOptFiles(temp);
            return TokenizerFiles.ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(temp, f)));
        }
        finally { if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true); }
    });
}
