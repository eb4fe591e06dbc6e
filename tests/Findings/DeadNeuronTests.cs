using OptNeurons.Findings;
using OptNeurons.Stats;
using OptNeurons.Tests.Model;
using OptNeurons.Tests.Support;
using OptNeurons.Capture;

namespace OptNeurons.Tests.Findings;

public class DeadNeuronTests
{
    // 4 sequences BOS 5 6 7. Neuron 0 never fires, 1 only on BOS, 2 on token 5, 3 everywhere.
    static NeuronStats Stats(bool includeFirst) => HandStats.Capture(
        Enumerable.Repeat(new long[] { HandStats.Bos, 5, 6, 7 }, 4).ToArray(), ffn: 4,
        (_, n, _, p, ids) => n switch { 1 => p == 0, 2 => ids[p] == 5, 3 => true, _ => false },
        new StatsOptions { IncludeFirstPosition = includeFirst });

    [Fact]
    public void PerLayer_CountsDeadAndMeanAliveFrequency_WithBos()
    {
        var row = Assert.Single(DeadNeurons.PerLayer(HandStats.Model(Stats(includeFirst: true))));
        Assert.Equal((16L, 1, 25.0, 3, true), (row.Tokens, row.Dead, row.DeadPercent, row.Alive, row.FirstPositionCounted));
        Assert.Equal((4 + 4 + 16) / (3.0 * 16), row.MeanAliveFrequency);
        Assert.Equal([0], DeadNeurons.Ids(HandStats.Model(Stats(true)), 0));
    }

    [Fact]
    public void PerLayer_ExcludingPositionZero_MakesBosOnlyNeuronDead_AndMatchesCaptureWithoutIt()
    {
        var excluded = Assert.Single(DeadNeurons.PerLayer(HandStats.Model(Stats(true)), new DeadNeuronOptions { ExcludeFirstPosition = true }));
        Assert.Equal((12L, 2, 50.0, 2, false), (excluded.Tokens, excluded.Dead, excluded.DeadPercent, excluded.Alive, excluded.FirstPositionCounted));
        Assert.Equal((4 + 12) / (2.0 * 12), excluded.MeanAliveFrequency);
        var neverCounted = Assert.Single(DeadNeurons.PerLayer(HandStats.Model(Stats(includeFirst: false))));
        Assert.Equal(excluded, neverCounted);
        Assert.Equal([0, 1], DeadNeurons.Ids(HandStats.Model(Stats(true)), 0, new DeadNeuronOptions { ExcludeFirstPosition = true }));
    }

    [Fact]
    public void PerLayer_OnFixtureModel_MatchesReferenceDeadCounts()
    {
        using var model = ReferenceTests.LoadFixtureModel();
        var stats = NeuronCapture.Run(model, Fixtures.StatsSequences(), new CaptureSettings(), StatsSource.For("fixture", model.Config, "stats_sequences", null));
        var rows = DeadNeurons.PerLayer(new ModelStats("tiny", model.NumLayers, stats));
        var expected = Fixtures.Reference();
        long tokens = expected.TotalTokens;
        Assert.Equal(expected.ActiveCounts.Count, rows.Count);
        foreach (var (row, l) in rows.Select((row, l) => (row, l)))
        {
            var counts = expected.ActiveCounts[l];
            int dead = expected.DeadCounts[l];
            Assert.Equal(l, row.Layer);
            Assert.Equal((tokens, dead, 128 - dead), (row.Tokens, row.Dead, row.Alive));
            Assert.Equal(100.0 * dead / 128, row.DeadPercent);
            Assert.Equal(counts.Sum() / ((double)(128 - dead) * tokens), row.MeanAliveFrequency);
            Assert.Equal(row.Layer / 2.0, row.Depth);   // L = 3: layer / (L - 1)
        }
    }
}
