using OptNeurons.Corpus;

namespace OptNeurons.Tests.Corpus;

public class SpecTests
{
    [Fact]
    public void Build_SplitsTheBudgetByShare_AndTheSpecSaysWhatWasUsed()
    {
        var a = WordTokenizer.Numbered(30).Labeled("list:a");
        var b = WordTokenizer.Numbered(20).Labeled("list:b");
        var built = CorpusBuilder.Build([new(a, 0.6), new(b, 0.4)], WordTokenizer.Encode, WordTokenizer.Bos, 101, seed: 4, new PackingOptions(10));
        var spec = built.Spec;
        Assert.Equal([61L, 40L], spec.Sources.Select(s => s.Budget));  // round(0.6 × 101) = 61; the last part gets the rest
        Assert.Equal([61L, 40L], spec.Sources.Select(s => s.Tokens));
        Assert.Equal(["list:a", "list:b"], spec.Sources.Select(s => s.Source));
        Assert.Equal(101, spec.Tokens);
        Assert.Equal(built.Sequences.Count, spec.Sequences);
        Assert.Equal(built.Sequences.Sum(s => s.Length), spec.Positions);
        // Each part is packed on its own: 61 tokens + separators in 9-token windows, then 40 + separators.
        int sepA = spec.Sources[0].Documents - 1, sepB = spec.Sources[1].Documents - 1;
        Assert.Equal((61 + sepA + 8) / 9 + (40 + sepB + 8) / 9, spec.Sequences);
        Assert.Equal($"{spec.Sequences} sequences × T=10 (concatenated) from 101 of 101 tokens, seed 4: 60% list:a, 40% list:b", spec.Describe());
    }

    [Fact]
    public void Spec_DescribesPerDocumentPacking_AndABudgetNotMet()
    {
        var spec = new CorpusSpec([new("text:<books>", 1, 1000, 990, 3)], 1000, 7, 2, 2048, Packing.PerDocument, true, 990, 0, 0);
        Assert.Equal("0 sequences × T=2048 (per document, full-length only) from 990 of 1,000 tokens, seed 7: 100% text:<books>", spec.Describe());
    }

    [Fact]
    public void Build_RejectsSharesThatDoNotAddUpToOne()
    {
        var c = WordTokenizer.Numbered(5);
        var e = Assert.Throws<ArgumentException>(() => CorpusBuilder.Build([new(c, 0.5), new(c, 0.4)], WordTokenizer.Encode, 2, 50, 1, new PackingOptions(8)));
        Assert.Contains("add up to 1", e.Message);
    }
}
