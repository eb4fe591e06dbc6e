using OptNeurons.Stats;
using static OptNeurons.Tests.Stats.StatsTestData;

namespace OptNeurons.Tests.Stats;

public class MergeTests
{
    static readonly int[] Layers = [2, 5];
    static readonly StatsSource Source = new("facebook/opt-test", "abc123", "rev1", "shard", Seed: 17);

    internal static NeuronStats Run(List<Sequence> seqs, StatsOptions? options = null, int ffn = 5, int maxLength = 10, StatsSource? source = null)
    {
        using var c = new NeuronStatsCollector(options ?? new StatsOptions(), Layers, ffn, maxLength, vocabSize: 11);
        Feed(c, seqs, batchSize: 3, leftPad: true, Layers);
        return c.Result(source ?? Source);
    }

    [Fact]
    public void MergeOfDisjointShards_EqualsOneRunOverTheirUnion()
    {
        var seqs = RandomSequences(seed: 31, count: 10, minLength: 1, maxLength: 10, vocab: 11, layers: 2, ffn: 5, density: 0.4);
        var a = Run(seqs[..6]);
        var b = Run(seqs[6..]);
        var union = Run(seqs);
        var merged = NeuronStats.Merge(a, b);

        AssertEqual(union, merged, manifest: false);
        Assert.Equal(union.TokenCount, a.TokenCount + b.TokenCount);
        Assert.Equal("shard + shard", merged.Manifest.Data);
        Assert.Equal(17, merged.Manifest.Seed);
        Assert.Equal(union.Manifest with { Data = merged.Manifest.Data }, merged.Manifest);
        Assert.True(union.ActiveCounts(5).ToArray().Sum() > 0);

        // Shards sampled with different seeds: each part's seed stays in the data description, and the merge has none.
        var reseeded = NeuronStats.Merge(a, Run(seqs[6..], source: Source with { Seed = 18 }));
        Assert.Equal(("shard (seed 17) + shard (seed 18)", (long?)null), (reseeded.Manifest.Data, reseeded.Manifest.Seed));
    }

    [Fact]
    public void MergeOfOverflowingSummaries_KeepsTheErrorBound()
    {
        // K = 2 with ~25 distinct unigrams per neuron: both inputs overflow; the merged error covers their undercounts.
        var seqs = RandomSequences(seed: 5, count: 8, minLength: 6, maxLength: 10, vocab: 11, layers: 2, ffn: 5, density: 0.6);
        var options = new StatsOptions { SketchCapacity = 2, NgramOrders = [1] };
        var a = Run(seqs[..4], options);
        var b = Run(seqs[4..], options);
        var merged = NeuronStats.Merge(a, b);
        var exact = Run(seqs, options with { SketchCapacity = 64 });
        for (int f = 0; f < 5; f++)
        {
            long error = merged.SketchError(5, f, 1);
            Assert.Equal(0, exact.SketchError(5, f, 1));
            Assert.True(error >= a.SketchError(5, f, 1) + b.SketchError(5, f, 1));
            var stored = merged.TopTriggers(5, f, 1).ToDictionary(p => p.Key, p => p.Count);
            foreach (var (key, count) in exact.TopTriggers(5, f, 1))
                Assert.InRange(count - stored.GetValueOrDefault(key), 0, error);
        }
    }

    [Fact]
    public void Merge_RefusesIncompatibleStats_NamingFieldAndValues()
    {
        var seqs = RandomSequences(seed: 3, count: 2, minLength: 2, maxLength: 4, vocab: 11, layers: 2, ffn: 5, density: 0.5);
        var a = Run(seqs);
        string Refusal(NeuronStats other) => Assert.Throws<ArgumentException>(() => NeuronStats.Merge(a, other)).Message;

        Assert.Contains("with different config hash: abc123 vs other", Refusal(Run(seqs, source: Source with { ConfigHash = "other" })));
        Assert.Contains("with different model: facebook/opt-test vs facebook/opt-other", Refusal(Run(seqs, source: Source with { Model = "facebook/opt-other" })));
        Assert.Contains("with different revision: rev1 vs (none)", Refusal(Run(seqs, source: Source with { Revision = null })));
        Assert.Contains("with different ffn dim (F): 5 vs 4", Refusal(Run(RandomSequences(3, 2, 2, 4, 11, 2, 4, 0.5), ffn: 4)));
        Assert.Contains("with different max length (T): 10 vs 12", Refusal(Run(seqs, maxLength: 12)));
        var options = Refusal(Run(seqs, new StatsOptions { IncludeFirstPosition = false }));
        Assert.Contains("with different options", options);
        Assert.Contains("IncludeFirstPosition=True", options);
        Assert.Contains("IncludeFirstPosition=False", options);

        using var c = new NeuronStatsCollector(new StatsOptions(), [2, 6], 5, 10, 11);
        Feed(c, seqs, 2, leftPad: false, [2, 6]);
        Assert.Contains("with different layers: [2, 5] vs [2, 6]", Refusal(c.Result(Source)));
    }
}
