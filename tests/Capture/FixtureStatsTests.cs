using OptNeurons.Capture;
using OptNeurons.Data;
using OptNeurons.Loading;
using OptNeurons.Stats;
using OptNeurons.Tests.Model;
using OptNeurons.Tests.Support;
using TorchSharp;

namespace OptNeurons.Tests.Capture;

/// <summary>
/// Every fixture's per-neuron counts (BOS included), whatever the batching and padding: exactly where the reference
/// computed in float32, within its rounding where it computed in half precision.
/// </summary>
public class FixtureStatsTests
{
    public static TheoryData<string, int, PaddingSide> Cases
    {
        get
        {
            var data = new TheoryData<string, int, PaddingSide>();
            foreach (var name in Fixtures.All.Keys)
                foreach (var (batchSize, padding) in new[] { (1, PaddingSide.Right), (4, PaddingSide.Right), (5, PaddingSide.Right), (4, PaddingSide.Left), (5, PaddingSide.Left) })
                    data.Add(name, batchSize, padding);
            return data;
        }
    }

    [Theory, MemberData(nameof(Cases))]
    public void ActiveCounts_EqualReference(string fixture, int batchSize, PaddingSide padding)
    {
        var reference = Fixtures.Reference(fixture);
        using var model = Pretrained.Load(reference.ModelDirectory, "cpu", "float32");
        var stats = NeuronCapture.Run(model, reference.StatsSequences, new CaptureSettings { BatchSize = batchSize, Padding = padding },
            StatsSource.For(fixture, model.Config, "stats_sequences", seed: null));
        Assert.Equal(reference.TotalTokens, stats.TokenCount);
        Assert.Equal(reference.StatsSequences.Count, stats.SequenceCount);
        Assert.Equal(reference.ActiveCounts.Count, stats.Layers.Count);
        Fixtures.AssertCounts(reference, stats);
    }

    [Fact]
    public void Capture_ReturnsLiveTensorCountToBaseline_AfterEachBatch()
    {
        using var model = ReferenceTests.LoadFixtureModel();
        var sequences = Fixtures.StatsSequences();
        var settings = new CaptureSettings { BatchSize = 3, MaxLength = 32 };
        var source = StatsSource.For("fixture", model.Config, "stats_sequences", seed: null);
        NeuronCapture.Run(model, sequences, settings, source);   // warm-up: lazily created module state
        DisposeScopeManager.Statistics.Reset();
        long baseline = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int run = 1; run <= 5; run++)
        {
            NeuronCapture.Run(model, sequences.Take(run * 3).ToList(), settings, source);
            Assert.True(baseline == DisposeScopeManager.Statistics.ThreadTotalLiveCount, $"run {run}: {DisposeScopeManager.Statistics}");
        }
    }
}
