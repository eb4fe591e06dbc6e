using System.Diagnostics;
using OptNeurons.Stats;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Stats;

/// <summary>
/// An OPT-125m-shaped layer (F = 3072) over batches of 2048 tokens with ~5% of activations positive, all three n-gram
/// orders, K = 128, GPT-2-sized vocabulary with Zipf-like ids: the summaries reach their steady (overflowing) state.
/// The time per layer update is printed for information only; speed is measured by benchmarks, not asserted in tests.
/// </summary>
public class SketchSpeedTests(ITestOutputHelper output)
{
    [Fact]
    public void Opt125mShapedLayer_ReachesOverflowingSteadyState()
    {
        const int F = 3072, Tokens = 2048, Vocab = 50272, Batches = 4;
        using var c = new NeuronStatsCollector(new StatsOptions(), [0], F, maxLength: 2048, Vocab);
        var rng = new Random(125);
        using var gen = new Generator(125);
        using var u = rand([1, Tokens, F], generator: gen);
        using var acts = where(u < 0.05, u + 0.01, zeros_like(u));   // reused: new token ids make every batch new n-grams
        var total = new List<double>();
        for (int b = 0; b < Batches; b++)
        {
            using var scope = NewDisposeScope();
            var ids = tensor(Enumerable.Range(0, Tokens).Select(_ => (long)(Vocab * Math.Pow(rng.NextDouble(), 4))).ToArray(), [1, Tokens]);
            c.BeginBatch(ids, ones(1, Tokens, ScalarType.Int64));
            var watch = Stopwatch.StartNew();
            c.Update(0, acts);
            total.Add(watch.Elapsed.TotalMilliseconds);
        }
        var s = c.Result();
        double active = s.ActiveCounts(0).ToArray().Average();
        output.WriteLine($"Update per layer (ms), batch by batch: {string.Join(", ", total.Select(t => t.ToString("F0")))}");
        output.WriteLine($"mean active tokens per neuron: {active:F0} of {s.TokenCount}; summaries full: {s.TopTriggers(0, 0, 3).Count} of 128");
        Assert.InRange(active / s.TokenCount, 0.045, 0.055);
        Assert.True(s.SketchError(0, 0, 3) > 0, "steady state: the trigram summaries overflow");
    }
}
