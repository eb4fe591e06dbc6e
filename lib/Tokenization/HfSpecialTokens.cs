using System.Text.Json;
using System.Text.Json.Nodes;

namespace OptNeurons.Tokenization;

/// <summary>
/// Which strings a HF snapshot treats as special: those named in special_tokens_map.json (else tokenizer_config.json)
/// are cut out of the text before BPE and map straight to their ids. For OPT that is only &lt;/s&gt; (bos = eos = unk)
/// and &lt;pad&gt;: its vocab.json also holds &lt;s&gt; and &lt;unk&gt;, but HF's GPT2Tokenizer splits those as text.
/// </summary>
internal sealed record HfSpecialTokens(string Bos, string? Pad, string? Unk, IReadOnlyList<string> All)
{
    static readonly string[] Roles = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    /// <summary>Used when the snapshot has neither file: OPT's vocabulary names without its map.</summary>
    static readonly string[] Fallback = ["<s>", "<pad>", "</s>", "<unk>"];

    public static HfSpecialTokens Read(string directory, IReadOnlyDictionary<string, int> vocab)
    {
        var roles = new Dictionary<string, string>();
        var all = new List<string>();
        // special_tokens_map.json is read last so that its roles win, as in HF.
        foreach (var name in new[] { "tokenizer_config.json", "special_tokens_map.json" })
        {
            var path = Path.Combine(directory, name);
            if (!File.Exists(path)) continue;
            JsonObject json;
            try { json = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"{path}: empty JSON."); }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            { throw new InvalidDataException($"{path}: not a JSON object ({e.Message}).", e); }
            foreach (var role in Roles)
                if (Content(json[role]) is { } token) roles[role] = token;
            foreach (var extra in json["additional_special_tokens"]?.AsArray() ?? [])
                if (Content(extra) is { } token) all.Add(token);
            // Newer tokenizer_config.json files list every added token with its id.
            foreach (var (_, added) in json["added_tokens_decoder"]?.AsObject() ?? [])
                if (Content(added) is { } token) all.Add(token);
        }

        if (roles.Count == 0 && all.Count == 0)
        {
            var present = Fallback.Where(vocab.ContainsKey).ToList();
            return new("</s>", vocab.ContainsKey("<pad>") ? "<pad>" : null, vocab.ContainsKey("<unk>") ? "<unk>" : null, present);
        }
        all.AddRange(roles.Values);
        return new(roles.GetValueOrDefault("bos_token", "</s>"), roles.GetValueOrDefault("pad_token"),
                   roles.GetValueOrDefault("unk_token"), all.Distinct().Where(vocab.ContainsKey).ToList());
    }

    // A token is written either as a plain string or as {"content": "...", "lstrip": ..., ...}.
    static string? Content(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonObject o => o["content"]?.GetValue<string>(),
        _ => null,
    };
}
