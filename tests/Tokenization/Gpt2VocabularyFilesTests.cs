using Microsoft.ML.Tokenizers;
using OptNeurons.Tokenization;

namespace OptNeurons.Tests.Tokenization;

/// <summary>Both layouts written once per test class (about a second each) into temp folders.</summary>
public sealed class WrittenVocabularies : IDisposable
{
    public WrittenVocabularies()
    {
        Root = Path.Combine(Path.GetTempPath(), "optneurons-vocab-" + Guid.NewGuid().ToString("N"));
        Gpt2VocabularyFiles.WriteOptFiles(OptDir);
        Gpt2VocabularyFiles.WriteGpt2Files(Gpt2Dir);
        Opt = OptTokenizer.FromDirectory(OptDir);
        Gpt2 = OptTokenizer.FromDirectory(Gpt2Dir);
    }

    public string Root { get; }
    public string OptDir => Path.Combine(Root, "opt");
    public string Gpt2Dir => Path.Combine(Root, "gpt2");
    public OptTokenizer Opt { get; }
    public OptTokenizer Gpt2 { get; }
    public TiktokenTokenizer Tiktoken { get; } = TiktokenTokenizer.CreateForModel("gpt2");
    public int[] OptOrder { get; } = Gpt2VocabularyFiles.LoadOptOrder();   // GPT-2 id of OPT id k + 4

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

public sealed class Gpt2VocabularyFilesTests(WrittenVocabularies files) : IClassFixture<WrittenVocabularies>
{
    public static TheoryData<string> VariedTexts =>
    [
        "The quick brown fox jumps over the lazy dog.\n\nIt's 3:45pm, naïve café in Zürich, 東京, Москва 🙂!",
        "def f(x):\n    return {'a': [1, 2, 3]}  # comment\r\n\tindented\n",
        "   leading spaces, trailing ones   \n",
        "Numbers 1234567890 and 3.14159, 1e-9; https://example.com/a?b=c&d=%20",
        "I'll they're we've she'd I'm don't DON'T 'quoted'",
        "Ünïcödé façade — “curly quotes” … ½ ¼ ∑ √ Ω ¿qué?",
    ];

    [Fact]
    public void OptFiles_GiveHfsIdsForOpt()
    {
        // HF: facebook/opt-125m's docs example, and transformers' OPTTokenizationTest (facebook/opt-350m).
        Assert.Equal([2, 100, 101, 47, 4], files.Opt.Encode("I like you."));
        Assert.Equal([2, 250, 1345, 9, 10, 4758], files.Opt.Encode("A photo of a cat"));
    }

    [Fact]
    public void OptFiles_HaveOptsLayout()
    {
        var o = files.Opt;
        Assert.Equal((50265, 2, 1), (o.VocabularySize, o.BosId, o.PadId));
        Assert.Equal(["<s>", "<pad>", "</s>", "<unk>", ".", "Ġthe", ","], Enumerable.Range(0, 7).Select(o.TokenText));
        Assert.Equal(["<|endoftext|>", "madeupword0000", "madeupword0002", "<mask>"], new[] { 50260, 50261, 50263, 50264 }.Select(o.TokenText));
        Assert.Equal([1], o.Encode("<pad>", addBos: false));
        // <s> is plain text for OPT (not in its special_tokens_map), so it is BPE'd like any other characters.
        Assert.Equal(files.Tiktoken.EncodeToIds("<s>"), o.Encode("<s>", addBos: false).Select(id => files.OptOrder[id - 4]));
    }

    [Fact]
    public void Gpt2Files_HaveGpt2sLayout()
    {
        var g = files.Gpt2;
        Assert.Equal((50257, 50256, -1), (g.VocabularySize, g.BosId, g.PadId));
        Assert.Equal(["!", "Ġthe", "<|endoftext|>"], new[] { 0, 262, 50256 }.Select(g.TokenText));
        Assert.Equal([15496, 995, 11, 340, 338, 257, 1332, 13], g.Encode("Hello world, it's a test.", addBos: false));
    }

    [Fact]
    public void MergesFile_IsGpt2sMergeList()
    {
        var lines = File.ReadAllLines(Path.Combine(files.OptDir, "merges.txt"));
        Assert.Equal(["#version: 0.2", "Ġ t", "Ġ a", "h e", "i n"], lines.Take(5));
        Assert.Equal(50001, lines.Length);   // one merge per token of rank 256..50255
        Assert.Equal(lines, File.ReadAllLines(Path.Combine(files.Gpt2Dir, "merges.txt")));
    }

    [Theory]
    [MemberData(nameof(VariedTexts))]
    public void BothLayouts_MatchTiktokensGpt2Ids_AndRoundTrip(string text)
    {
        var expected = files.Tiktoken.EncodeToIds(text);
        Assert.Equal(expected, files.Gpt2.Encode(text, addBos: false));
        var opt = files.Opt.Encode(text, addBos: false);
        Assert.Equal(expected, opt.Select(id => files.OptOrder[id - 4]));
        Assert.Equal("</s>" + text, files.Opt.Decode(files.Opt.Encode(text)));

        // Offsets tile the text: each token starts where the previous one ended, or shares a split character's span.
        var spans = files.Opt.EncodeWithOffsets(text, addBos: false);
        int end = 0;
        foreach (var (_, start, length) in spans)
        {
            Assert.True(start <= end && start + length >= end, $"gap before char {start} in {text}");
            end = start + length;
        }
        Assert.Equal(text.Length, end);
    }
}
