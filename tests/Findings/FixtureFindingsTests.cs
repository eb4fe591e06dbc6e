using OptNeurons.Capture;
using OptNeurons.Findings;
using OptNeurons.Stats;
using OptNeurons.Tests.Model;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Findings;

/// <summary>The n-gram analyses on a real capture: subtracting BOS equals never counting it.</summary>
public class FixtureFindingsTests
{
    [Fact]
    public void NgramAnalyses_AreTheSame_WhetherBosWasSubtractedOrNeverCounted()
    {
        using var model = ReferenceTests.LoadFixtureModel();
        ModelStats Capture(bool includeFirst) => new("tiny", model.NumLayers, NeuronCapture.Run(model, Fixtures.StatsSequences(),
            new CaptureSettings { Stats = new StatsOptions { IncludeFirstPosition = includeFirst, SketchCapacity = 256 } },
            StatsSource.For("fixture", model.Config, "stats_sequences", null)));
        var (with, without) = (Capture(true), Capture(false));
        var all = new CoverageOptions { FirstHalfOnly = false };
        for (int n = 1; n <= 3; n++)
        {
            var coverage = NgramCoverage.PerNeuron(with, n, all);
            Assert.Equal(NgramCoverage.PerNeuron(without, n, all), coverage);
            Assert.All(coverage, c => Assert.True(c.Exact && c.Lower >= 1 && c.Lower <= c.Activations));
            var summary = NgramCoverage.Summary(with, n, all);
            Assert.All(summary, s => Assert.Equal((128, s.Covered, s.Covered), (s.Covered + s.Silent, s.SketchExact, s.Determined)));
        }
        // 179 tokens minus 15 BOS: unigram activations are the active counts away from position 0.
        var layer0 = NgramCoverage.PerNeuron(with, 1, all).Where(c => c.Layer == 0).ToDictionary(c => c.Neuron, c => c.Activations);
        var active = without.Stats.ActiveCounts(0).ToArray();
        Assert.Equal(Enumerable.Range(0, 128).Where(i => active[i] > 0).ToDictionary(i => i, i => active[i]), layer0);
        var options = DetectorOptions.Tokens with { MinOccurrences = 1, FirstHalfOnly = false };
        Assert.Equal(NgramDetectors.PerLayer(NgramDetectors.Find(without, options)), NgramDetectors.PerLayer(NgramDetectors.Find(with, options)));
    }
}
