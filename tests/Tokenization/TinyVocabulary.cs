using System.Text.Json;

namespace OptNeurons.Tests.Tokenization;

/// <summary>
/// A hand-made byte-level vocabulary in OPT's layout (&lt;s&gt;=0, &lt;pad&gt;=1, &lt;/s&gt;=2, &lt;unk&gt;=3), small
/// enough to work every expected id out by hand. Bytes are spelled GPT-2's way: Ġ = space, Ċ = newline, and é is
/// its UTF-8 bytes C3 A9, spelled "Ã" "©". Without merges for them, é stays two tokens.
/// </summary>
public sealed class TinyVocabulary : IDisposable
{
    static readonly string[] Specials = ["<s>", "<pad>", "</s>", "<unk>"];

    // Single bytes: every character the tests' texts use, and nothing else.
    static readonly string[] Bytes =
        ["h", "e", "l", "o", "w", "r", "d", "c", "a", "f", "1", "2", "3", "4", "5", "<", ">", "s", "/", "p", "x", "Ġ", "Ċ", "Ã", "©"];

    // Merges in priority order (a lower line wins), each adding the token it makes.
    static readonly (string Left, string Right)[] Merges =
    [
        ("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"),
        ("Ġ", "w"), ("o", "r"), ("Ġw", "or"), ("Ġwor", "l"), ("Ġworl", "d"),
        ("c", "a"), ("ca", "f"),
        ("1", "2"), ("Ġ", "3"), ("4", "5"),
    ];

    public TinyVocabulary(bool withOptSpecialTokensMap = false)
    {
        Directory = Path.Combine(Path.GetTempPath(), "optneurons-tiny-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        var tokens = Specials.Concat(Bytes).Concat(Merges.Select(m => m.Left + m.Right)).ToList();
        Ids = tokens.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i);
        File.WriteAllText(Path.Combine(Directory, "vocab.json"), JsonSerializer.Serialize(Ids));
        File.WriteAllLines(Path.Combine(Directory, "merges.txt"), ["#version: 0.2", .. Merges.Select(m => $"{m.Left} {m.Right}")]);
        if (withOptSpecialTokensMap)   // only </s> and <pad> are special for OPT
            File.WriteAllText(Path.Combine(Directory, "special_tokens_map.json"), OptSpecialTokensMap);
    }

    // facebook/opt-350m's special_tokens_map.json, one entry per line here.
    const string OptSpecialTokensMap = """
        {"bos_token": {"content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true},
         "eos_token": {"content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true},
         "unk_token": {"content": "</s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true},
         "pad_token": {"content": "<pad>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": true}}
        """;

    public string Directory { get; }

    public IReadOnlyDictionary<string, int> Ids { get; }

    /// <summary>The id of a token, by its vocab.json spelling.</summary>
    public int this[string token] => Ids[token];

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
