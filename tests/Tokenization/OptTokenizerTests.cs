using OptNeurons.Tokenization;

namespace OptNeurons.Tests.Tokenization;

/// <summary>
/// OptTokenizer on <see cref="TinyVocabulary"/>, every id worked out by hand. Ids: &lt;s&gt;0 &lt;pad&gt;1 &lt;/s&gt;2
/// &lt;unk&gt;3; bytes h4 e5 l6 o7 w8 r9 d10 c11 a12 f13 1:14 2:15 3:16 4:17 5:18 &lt;19 &gt;20 s21 /22 p23 x24 Ġ25 Ċ26
/// Ã27 ©28; merged he29 ll30 hell31 hello32 Ġw33 or34 Ġwor35 Ġworl36 Ġworld37 ca38 caf39 12:40 Ġ3:41 45:42.
/// </summary>
public sealed class OptTokenizerTests : IDisposable
{
    readonly TinyVocabulary vocab = new();
    readonly OptTokenizer tok;

    public OptTokenizerTests() => tok = OptTokenizer.FromDirectory(vocab.Directory);

    public void Dispose() => vocab.Dispose();

    [Fact]
    public void TinyVocabulary_HasTheIdsTheCommentsUse()
    {
        Assert.Equal(43, tok.VocabularySize);
        Assert.Equal((2, 1), (tok.BosId, tok.PadId));
        Assert.Equal((25, 26, 27, 28), (vocab["Ġ"], vocab["Ċ"], vocab["Ã"], vocab["©"]));
        Assert.Equal((32, 37, 39, 42), (vocab["hello"], vocab["Ġworld"], vocab["caf"], vocab["45"]));
        Assert.Equal("Ġworld", tok.TokenText(37));
    }

    [Fact]
    public void Spaces_StickToTheFollowingWord_WithOneBosInFront()
    {
        Assert.Equal([2, 32, 37], tok.Encode("hello world"));
        Assert.Equal([32, 37], tok.Encode("hello world", addBos: false));
        Assert.Equal([(2, 0, 0), (32, 0, 5), (37, 5, 6)], tok.EncodeWithOffsets("hello world"));
        // A run of spaces at the end is one piece; with no "ĠĠ" merge it stays two Ġ tokens.
        Assert.Equal([(32, 0, 5), (25, 5, 1), (25, 6, 1)], tok.EncodeWithOffsets("hello  ", addBos: false));
        // Without the leading space "world" is a different word: w + or + l + d.
        Assert.Equal([8, 34, 6, 10], tok.Encode("world", addBos: false));
    }

    [Fact]
    public void Accent_IsTwoByteTokens_SharingTheCharactersSpan()
    {
        // é = C3 A9 = "Ã©"; no merge joins them, so both tokens point at character 3.
        Assert.Equal([(39, 0, 3), (27, 3, 1), (28, 3, 1)], tok.EncodeWithOffsets("café", addBos: false));
        Assert.Equal("café", tok.Decode([39, 27, 28]));
    }

    [Fact]
    public void Digits_AreOneRunPerPiece_ThenSplitByMerges()
    {
        // The regex keeps a whole digit run together (no 3-digit groups, unlike cl100k) and parts letters from digits.
        Assert.Equal([(40, 0, 2), (41, 2, 2), (42, 4, 2)], tok.EncodeWithOffsets("12 345", addBos: false));
        Assert.Equal([40, 16, 42], tok.Encode("12345", addBos: false));   // 12 3 45: merges (1,2) and (4,5) only
        Assert.Equal([24, 40], tok.Encode("x12", addBos: false));
    }

    [Fact]
    public void Newlines_BeforeASpacedWord_LeaveTheSpaceToTheWord()
    {
        // "\s+(?!\S)" takes "\n\n" but not the space before "world", which then goes with the word.
        Assert.Equal([(32, 0, 5), (26, 5, 1), (26, 6, 1), (37, 7, 6)], tok.EncodeWithOffsets("hello\n\n world", addBos: false));
    }

    [Fact]
    public void SpecialTokensInText_MapToTheirIds()
    {
        Assert.Equal([(2, 0, 0), (32, 0, 5), (2, 5, 4), (8, 9, 1), (34, 10, 2), (6, 12, 1), (10, 13, 1), (1, 14, 5)],
                     tok.EncodeWithOffsets("hello</s>world<pad>"));
        Assert.Equal([2, 2, 32], tok.Encode("</s>hello"));   // the BOS is added even before a written </s>, as in HF
        Assert.Equal([0, 24], tok.Encode("<s>x", addBos: false));   // no special_tokens_map.json: <s> counts too
    }

    [Fact]
    public void WithOptsSpecialTokensMap_OnlyEosAndPadAreSpecial()
    {
        using var optVocab = new TinyVocabulary(withOptSpecialTokensMap: true);
        var opt = OptTokenizer.FromDirectory(optVocab.Directory);
        Assert.Equal([19, 21, 20, 24], opt.Encode("<s>x", addBos: false));   // < s > x, as HF's OPT tokenizer does
        Assert.Equal([2, 32, 2, 1], opt.Encode("hello</s><pad>"));
        Assert.Equal((2, 1), (opt.BosId, opt.PadId));
    }

    [Fact]
    public void Decode_RoundTrips_AndCanSkipSpecialTokens()
    {
        const string text = "café\n12 345</s>hello world  ";
        var ids = tok.Encode(text);
        Assert.Equal("</s>" + text, tok.Decode(ids));
        Assert.Equal("café\n12 345hello world  ", tok.Decode(ids, skipSpecialTokens: true));
        Assert.Equal(string.Empty, tok.Decode([]));
        Assert.Equal([2], tok.Encode(""));
    }

    [Fact]
    public void Errors_NameTheDirectoryAndTheMissingFile()
    {
        var missingDir = Path.Combine(vocab.Directory, "nope");
        Assert.Contains(missingDir, Assert.Throws<DirectoryNotFoundException>(() => OptTokenizer.FromDirectory(missingDir)).Message);

        File.Delete(Path.Combine(vocab.Directory, "merges.txt"));
        var e = Assert.Throws<FileNotFoundException>(() => OptTokenizer.FromDirectory(vocab.Directory));
        Assert.Contains(vocab.Directory, e.Message);
        Assert.Contains("merges.txt", e.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([43]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.TokenText(-1));
    }

    [Fact]
    public void DamagedFiles_AreNamed_NotTokenizedWithout()
    {
        var merges = Path.Combine(vocab.Directory, "merges.txt");
        File.WriteAllLines(merges, ["#version: 0.2", "h e", "garbage line here"]);
        Assert.Equal($"{merges} line 3: expected a merge rule, two tokens separated by one space; got 'garbage line here'.",
                     Assert.Throws<InvalidDataException>(() => OptTokenizer.FromDirectory(vocab.Directory)).Message);

        // Without merges a byte-level BPE splits everything into bytes: a large vocabulary says the rules are missing.
        var big = Path.Combine(vocab.Directory, "big");
        Directory.CreateDirectory(big);
        File.WriteAllText(Path.Combine(big, "vocab.json"), System.Text.Json.JsonSerializer.Serialize(
            Enumerable.Range(0, 400).ToDictionary(i => i == 2 ? "</s>" : $"t{i}", i => i)));
        File.WriteAllText(Path.Combine(big, "merges.txt"), "#version: 0.2\n");
        Assert.Contains("holds no merge rules, but the vocabulary has 400 tokens", Assert.Throws<InvalidDataException>(() => OptTokenizer.FromDirectory(big)).Message);

        var ids = Path.Combine(vocab.Directory, "vocab.json");
        File.WriteAllText(ids, """{"<s>": 0, "<pad>": 1, "</s>": 2, "h": 2}""");
        Assert.Equal($"{ids}: id 2 is given to '</s>' and 'h'; every token needs an id of its own.",
                     Assert.Throws<InvalidDataException>(() => OptTokenizer.FromDirectory(vocab.Directory)).Message);
    }
}
