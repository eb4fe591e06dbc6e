using OptNeurons.Capture;
using OptNeurons.Data;
using OptNeurons.Stats;
using OptNeurons.Tests.Model;
using OptNeurons.Tests.Support;
using TorchSharp;

namespace OptNeurons.Tests.Capture;

/// <summary>The reference's per-neuron counts (BOS included), reproduced exactly whatever the batching and padding.</summary>
public class FixtureStatsTests
{
    [Theory]
    [InlineData(1, PaddingSide.Right)]
    [InlineData(4, PaddingSide.Right)]
    [InlineData(5, PaddingSide.Right)]
    [InlineData(4, PaddingSide.Left)]
    [InlineData(5, PaddingSide.Left)]
    public void ActiveCounts_EqualReference(int batchSize, PaddingSide padding)
    {
        using var model = ReferenceTests.LoadFixtureModel("model.safetensors");
        var stats = NeuronCapture.Run(model, Fixtures.StatsSequences(), new CaptureSettings { BatchSize = batchSize, Padding = padding },
            StatsSource.For("fixture", model.Config, "stats_sequences", seed: null));
        using var expected = Fixtures.ExpectedStats();
        var root = expected.RootElement;
        Assert.Equal(root.GetProperty("total_tokens").GetInt64(), stats.TokenCount);
        Assert.Equal(root.GetProperty("num_sequences").GetInt64(), stats.SequenceCount);
        foreach (var layer in root.GetProperty("layers").EnumerateArray())
        {
            int l = layer.GetProperty("layer").GetInt32();
            var counts = layer.GetProperty("active_token_counts").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            Assert.Equal(counts, stats.ActiveCounts(l).ToArray());
            Assert.Equal(layer.GetProperty("dead_count").GetInt32(), stats.ActiveCounts(l).ToArray().Count(c => c == 0));
        }
    }

    [Fact]
    public void Capture_ReturnsLiveTensorCountToBaseline_AfterEachBatch()
    {
        using var model = ReferenceTests.LoadFixtureModel("model.safetensors");
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
