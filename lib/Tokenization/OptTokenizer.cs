using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace OptNeurons.Tokenization;

/// <summary>
/// OPT's tokenizer as HF's GPT2Tokenizer runs it for facebook/opt-*: byte-level GPT-2 BPE over the snapshot's
/// vocab.json + merges.txt, with &lt;/s&gt; (id 2) in front of every input. The BPE itself is ML.NET's BpeTokenizer.
/// Reference: transformers/models/gpt2/tokenization_gpt2.py.
/// </summary>
public sealed partial class OptTokenizer
{
    // GPT-2's pre-tokenizer split (tokenization_gpt2.py): contractions, letters, digits (a whole run of digits is one
    // piece; only BPE splits it further), other symbols, whitespace. A space sticks to the piece after it.
    // Known gap: .NET matches UTF-16 units, so letters and digits outside the BMP (𝐀, 𝟏, 𠀀) count as symbols, not
    // \p{L}/\p{N} as in Python. Ids differ only where that moves a piece boundary that a merge crosses, e.g. "𝟏's"
    // (20000 random strings dense in such characters: 10 differed, all of this kind; 1.8M corpus tokens: none).
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Gpt2Split();

    readonly BpeTokenizer bpe;
    readonly string[] tokenText;   // id → vocab.json key, "" where the id space has a hole
    readonly HashSet<int> specialIds;

    OptTokenizer(BpeTokenizer bpe, string[] tokenText, HashSet<int> specialIds, int bosId, int padId)
    {
        this.bpe = bpe;
        this.tokenText = tokenText;
        this.specialIds = specialIds;
        BosId = bosId;
        PadId = padId;
    }

    /// <summary>Rows an embedding needs for these ids: the largest id in vocab.json plus one (50265 for OPT).</summary>
    public int VocabularySize => tokenText.Length;

    /// <summary>The id put in front of every input (&lt;/s&gt; = 2 for OPT).</summary>
    public int BosId { get; }

    /// <summary>The padding id (&lt;pad&gt; = 1 for OPT), or -1 if the vocabulary has none (GPT-2's own layout).</summary>
    public int PadId { get; }

    /// <summary>Loads vocab.json and merges.txt, and special_tokens_map.json / tokenizer_config.json if present.</summary>
    public static OptTokenizer FromDirectory(string snapshotDir)
    {
        if (!Directory.Exists(snapshotDir))
            throw new DirectoryNotFoundException($"OPT tokenizer: the directory '{snapshotDir}' does not exist.");
        string Need(string name)
        {
            var path = Path.Combine(snapshotDir, name);
            return File.Exists(path) ? path
                : throw new FileNotFoundException($"OPT tokenizer: '{snapshotDir}' has no {name} (an OPT snapshot carries vocab.json and merges.txt).", path);
        }
        var vocabPath = Need("vocab.json");
        var mergesPath = Need("merges.txt");

        Dictionary<string, int> vocab;
        try { vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(vocabPath)) ?? []; }
        catch (JsonException e) { throw new InvalidDataException($"{vocabPath}: not a JSON object of token → id ({e.Message}).", e); }
        if (vocab.Count == 0 || vocab.Values.Min() < 0)
            throw new InvalidDataException($"{vocabPath}: expected a non-empty map of tokens to non-negative ids.");
        if (vocab.GroupBy(t => t.Value).FirstOrDefault(g => g.Count() > 1) is { } shared)
            throw new InvalidDataException($"{vocabPath}: id {shared.Key} is given to {string.Join(" and ", shared.Take(2).Select(t => $"'{t.Key}'"))}; every token needs an id of its own.");
        var tokenText = new string[vocab.Values.Max() + 1];
        Array.Fill(tokenText, "");
        foreach (var (token, id) in vocab) tokenText[id] = token;

        var specials = HfSpecialTokens.Read(snapshotDir, vocab);
        if (!vocab.TryGetValue(specials.Bos, out var bosId))
            throw new InvalidDataException($"{vocabPath}: the beginning-of-sequence token '{specials.Bos}' is not in the vocabulary.");
        var specialIds = specials.All.ToDictionary(t => t, t => vocab[t]);

        var merges = ReadMerges(mergesPath, vocab.Count);
        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            ByteLevel = true,   // map bytes through GPT-2's alphabet (Ġ for space); plain BPE would drop spaces
            PreTokenizer = new RegexPreTokenizer(Gpt2Split(), specialIds.Count > 0 ? specialIds : null),
            SpecialTokens = specialIds.Count > 0 ? specialIds : null,
            UnknownToken = specials.Unk is { } unk && vocab.ContainsKey(unk) ? unk : null,
            // No BeginningOfSentenceToken: BpeTokenizer would then always add it; Encode adds it itself when asked.
        };
        var pad = specials.Pad is { } p && vocab.TryGetValue(p, out var padId) ? padId : -1;
        return new OptTokenizer(BpeTokenizer.Create(options), tokenText, [.. specialIds.Values], bosId, pad);
    }

    /// <summary>
    /// merges.txt's merge rules, "left right" per line, checked here so that a damaged file is named: without its merges
    /// a byte-level BPE splits text into single bytes, silently. HF's file starts with a "#version: 0.2" line; HF's
    /// reader drops it, and so does this one.
    /// </summary>
    static List<string> ReadMerges(string path, int vocabSize)
    {
        var merges = new List<string>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            if (line.Split(' ') is not [{ Length: > 0 }, { Length: > 0 }])
                throw new InvalidDataException($"{path} line {lineNumber}: expected a merge rule, two tokens separated by one space; got '{(line.Length > 60 ? line[..60] + "…" : line)}'.");
            merges.Add(line);
        }
        // 256 byte tokens and a few special ones need no merges; any larger vocabulary was built from them.
        if (merges.Count == 0 && vocabSize > 300)
            throw new InvalidDataException($"{path} holds no merge rules, but the vocabulary has {vocabSize} tokens (an OPT tokenizer has 50,000 rules).");
        return merges;
    }

    /// <summary>Token ids of <paramref name="text"/>, with one BOS (&lt;/s&gt;) in front when <paramref name="addBos"/>.</summary>
    public IReadOnlyList<int> Encode(string text, bool addBos = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = bpe.EncodeToIds(text);
        if (!addBos) return ids;
        var withBos = new List<int>(ids.Count + 1) { BosId };
        withBos.AddRange(ids);
        return withBos;
    }

    /// <summary>
    /// Token ids with the characters of <paramref name="text"/> each covers (Start, Length in UTF-16 chars). BOS gets
    /// (0, 0). When BPE splits one character's bytes over several tokens (é as two byte tokens), those tokens share
    /// that character's span, as HF's fast tokenizers report it.
    /// </summary>
    public IReadOnlyList<(int Id, int Start, int Length)> EncodeWithOffsets(string text, bool addBos = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = bpe.EncodeToTokens(text, out _);
        var spans = Utf8Offsets.Spans(text, [.. tokens.Select(t => Utf8Offsets.ByteLength(t.Value, specialIds.Contains(t.Id)))])
            ?? [.. tokens.Select(t => t.Offset.GetOffsetAndLength(text.Length))];   // unknown tokens: keep ML.NET's spans
        var result = new List<(int, int, int)>(tokens.Count + 1);
        if (addBos) result.Add((BosId, 0, 0));
        for (int i = 0; i < tokens.Count; i++) result.Add((tokens[i].Id, spans[i].Start, spans[i].Length));
        return result;
    }

    /// <summary>The text of <paramref name="ids"/>; special tokens (&lt;/s&gt;, &lt;pad&gt;) are written out unless skipped.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var list = ids as IReadOnlyCollection<int> ?? ids.ToList();
        foreach (var id in list) CheckId(id);
        return bpe.Decode(list, considerSpecialTokens: !skipSpecialTokens);
    }

    /// <summary>The raw vocab.json string of an id, e.g. "Ġthe" (Ġ = a leading space), for labels in charts.</summary>
    public string TokenText(int id)
    {
        CheckId(id);
        return tokenText[id];
    }

    void CheckId(int id)
    {
        // OPT's embedding has 50272 rows but only 50265 tokens: the padding rows have no text.
        if ((uint)id >= (uint)tokenText.Length || tokenText[id].Length == 0)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is not in the vocabulary (ids 0..{tokenText.Length - 1}).");
    }
}
