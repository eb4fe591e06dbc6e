using OptNeurons.Findings;
using OptNeurons.Stats;
using static OptNeurons.Stats.NgramKey;

namespace OptNeurons.Tests.Findings;

public class CoverageTests
{
    // One-token sequences BOS t: 10, 11, 12 three times each, 13 twice, 20 nineteen times, 21 twice (32 sequences).
    static readonly long[] Tokens = [10, 10, 10, 11, 11, 11, 12, 12, 12, 13, 13, .. Enumerable.Repeat(20L, 19), 21, 21];
    static readonly long[][] Pairs = Tokens.Select(t => new long[] { HandStats.Bos, t }).ToArray();

    static bool Fires(int neuron, int seq, int p, long[] ids) => neuron switch
    {
        0 => ids[p] is 10 or 11 or 12 || (ids[p] == 13 && seq == 9),   // 3 + 3 + 3 + 1: ties, and 95% needs all four
        1 => ids[p] == 20 || (ids[p] == 21 && seq == 30),              // 19 of 20: exactly 95% with one token
        2 => p == 0 || ids[p] == 10,                                   // BOS everywhere, plus token 10
        _ => false,
    };

    static ModelStats Model() => HandStats.Model(HandStats.Capture(Pairs, 4, (_, n, s, p, ids) => Fires(n, s, p, ids)));

    [Fact]
    public void PerNeuron_GivesExactCoverage_WithTiesAndTheExact95PercentBoundary()
    {
        var rows = NgramCoverage.PerNeuron(Model(), n: 1).ToDictionary(r => r.Neuron);
        Assert.Equal([0, 1, 2], rows.Keys.Order());   // neuron 3 is dead: no coverage number
        Assert.Equal((10L, 4, 4, true), (rows[0].Activations, rows[0].Lower, rows[0].Upper, rows[0].Exact));
        Assert.Equal((20L, 1, 1), (rows[1].Activations, rows[1].Lower, rows[1].Upper));   // 100·19 ≥ 95·20
        Assert.Equal((3L, 1, 1), (rows[2].Activations, rows[2].Lower, rows[2].Upper));    // BOS left out
        Assert.All(rows.Values, r => Assert.Equal(0, r.SketchError));
    }

    [Fact]
    public void PerNeuron_CountingBos_AddsItAsATrigger()
    {
        var options = new CoverageOptions { Counting = new TriggerCounting { ExcludeFirstPosition = false } };
        var row = NgramCoverage.PerNeuron(Model(), 1, options).Single(r => r.Neuron == 2);
        Assert.Equal((35L, 2, 2), (row.Activations, row.Lower, row.Upper));   // BOS 32 + token 10 ×3; 32 < 95% of 35
    }

    [Fact]
    public void Binned_And_Summary_CountNeuronsPerBin()
    {
        var model = Model();
        var bins = NgramCoverage.Binned(NgramCoverage.PerNeuron(model, 1));
        Assert.Equal(["1-5", "6-10", "11-50", "51-100", ">100", CoverageBin.Undetermined], bins.Select(b => b.Bin));
        Assert.Equal([3, 0, 0, 0, 0, 0], bins.Select(b => b.Neurons));
        Assert.Equal(100.0, bins[0].Percent);
        var summary = Assert.Single(NgramCoverage.Summary(model, 1));
        Assert.Equal((3, 1, 3, 3, 3), (summary.Covered, summary.Silent, summary.SketchExact, summary.Determined, summary.Binned));
    }

    [Fact]
    public void PercentByBin_KeepsEachLayerAtItsNumber_WhenAnEarlierLayerHasNoAliveNeuron()
    {
        // Layers 0–2 of 6 (the first half). Layer 0 fires only on BOS, which is not counted: no alive neuron, no rows.
        // Layer 1 is neuron 0's pattern above (3 tokens: bin 1-5); layer 2 fires on tokens 10-13 and 20-21 (6: bin 6-10).
        var stats = HandStats.Capture(Pairs, 4, (l, n, s, p, ids) => l switch
        {
            0 => p == 0,
            1 => Fires(n, s, p, ids) && n == 0,
            _ => n == 0 && p == 1,
        }, layers: 3);
        var bins = NgramCoverage.Binned(NgramCoverage.PerNeuron(HandStats.Model(stats, numLayers: 6), 1));
        Assert.Equal([1, 2], bins.Select(b => b.Layer).Distinct());
        var percent = NgramCoverage.PercentByBin(bins);
        Assert.Equal([0.0, 100, 0], percent["1-5"]);     // index = layer number: layer 1 stays at 1
        Assert.Equal([0.0, 0, 100], percent["6-10"]);
        Assert.Equal([0.0, 0, 0], percent[CoverageBin.Undetermined]);
    }

    [Fact]
    public void PositionZeroWithoutBos_IsRefused_RatherThanSubtractedWrongly()
    {
        // Two sequences, one of which does not start with BOS: BOS occurs once, position 0 twice.
        var stats = HandStats.Capture([[5, 10], [HandStats.Bos, 10]], 1, (_, _, _, p, _) => p == 1);
        var e = Assert.Throws<InvalidOperationException>(() => NgramCoverage.PerNeuron(HandStats.Model(stats), 1));
        Assert.StartsWith("BOS id 2 occurs 1 times but 2 sequences have a position 0", e.Message);
        var bigramsOnly = HandStats.Capture([[HandStats.Bos, 10]], 1, (_, _, _, p, _) => p == 1, new StatsOptions { NgramOrders = [2] });
        Assert.Contains("unigrams were not tracked", Assert.Throws<InvalidOperationException>(() => NgramCoverage.PerNeuron(HandStats.Model(bigramsOnly), 2)).Message);
    }

    [Fact]
    public void PerNeuron_WithInexactSketch_GivesBoundsAndUndeterminedBin()
    {
        // Capacity 2, one batch: neuron 0 fires on a ×10, b ×5, c ×2, d ×1. The summary keeps a 8, b 3 with error 2.
        long[] tokens = [.. Enumerable.Repeat(20L, 10), .. Enumerable.Repeat(21L, 5), 22, 22, 23];
        var stats = HandStats.Capture(tokens.Select(t => new long[] { HandStats.Bos, t }).ToArray(), 1, (_, _, _, p, _) => p > 0,
                                      new StatsOptions { IncludeFirstPosition = false, SketchCapacity = 2 });
        Assert.Equal(2, stats.SketchError(0, 0, 1));
        var row = Assert.Single(NgramCoverage.PerNeuron(HandStats.Model(stats), 1));
        // Uppers 10, 5 then unlisted n-grams at 2 each: 10 + 5 + 2 + 2 ≥ 95% of 18 gives k ≥ 4; lowers 8 + 3 never reach it.
        Assert.Equal((18L, 4, (int?)null, false), (row.Activations, row.Lower, row.Upper, row.Exact));
        var bins = NgramCoverage.Binned([row]);
        Assert.Equal(1, bins.Single(b => b.Bin == CoverageBin.Undetermined).Neurons);
        Assert.True(new CoverageBin(">3", 4, null).Holds(row.Lower, row.Upper));
    }

    [Fact]
    public void CoverageLowerBound_TakesUnlistedNgramsAtTheError_BeforeRareListedOnes()
    {
        // A summary {a: 150, b: 1, c: 1} with error 2, of 160 activations (95 %: 152). b and c occurred once each, so
        // their upper bounds are 1, while an n-gram the summary dropped may have triggered the neuron twice: true counts
        // 150, 2, 2, … reach 152 with two n-grams, so the coverage is only known to be ≥ 2, not exactly 3.
        var t = new NeuronTriggers([new(30, 150, 150, 150), new(31, 1, 1, 1), new(32, 1, 1, 1)], Error: 2, Activations: 160);
        Assert.Equal((2, (int?)3), CoverageBounds.Of(t, 95));
        // Listed upper bounds at or above the error come first: 150 + 2 reaches 152 either way.
        var wide = t with { Triggers = [new(30, 150, 150, 150), new(31, 1, 3, 9)] };
        Assert.Equal((2, (int?)null), CoverageBounds.Of(wide, 95));
        // Error 0: the listed counts are exact, and both bounds are the coverage.
        var exact = new NeuronTriggers([new(30, 150, 150, 150), new(31, 6, 6, 6), new(32, 4, 4, 4)], Error: 0, Activations: 160);
        Assert.Equal((2, (int?)2), CoverageBounds.Of(exact, 95));
    }

    [Fact]
    public void PerNeuron_IsTheSame_WhetherPositionZeroWasSubtractedOrNeverCounted()
    {
        var rng = new Random(7);
        var seqs = Enumerable.Range(0, 40).Select(_ => new long[] { HandStats.Bos }.Concat(
            Enumerable.Range(0, rng.Next(1, 9)).Select(_ => (long)rng.Next(3, 12))).ToArray()).ToArray();
        Fires fires = (l, n, _, p, ids) => p == 0 ? n % 2 == 0 : (ids[p] * 7 + n + (p > 1 ? ids[p - 1] : 0)) % 3 == 0;
        var with = HandStats.Model(HandStats.Capture(seqs, 6, fires));
        var without = HandStats.Model(HandStats.Capture(seqs, 6, fires, new StatsOptions { IncludeFirstPosition = false }));
        for (int n = 1; n <= 3; n++)
        {
            Assert.Equal(NgramCoverage.PerNeuron(without, n), NgramCoverage.PerNeuron(with, n));
            Assert.NotEmpty(NgramCoverage.PerNeuron(with, n));
        }
    }

    [Fact]
    public void SeparatorBos_GivesBoundsThatHoldTheExactCoverage_AndDetectorsThatAreTrue()
    {
        // BOS also separates documents mid-sequence, so a BOS-initial n-gram's count mixes position 0 and later: the
        // analysis must bound it. A capture without position 0 knows the exact answer to compare with.
        var rng = new Random(11);
        long[][] seqs = Enumerable.Range(0, 60).Select(_ => new long[] { HandStats.Bos }.Concat(
            Enumerable.Range(0, 7).Select(_ => rng.Next(4) == 0 ? HandStats.Bos : (long)rng.Next(3, 9))).ToArray()).ToArray();
        Fires fires = (_, n, _, p, ids) => p == 0 ? n % 2 == 0 : (ids[p] + n + (p > 1 ? ids[p - 1] : 0)) % 3 == 0 || (n == 5 && ids[p] == 4);
        var with = HandStats.Model(HandStats.Capture(seqs, 6, fires));
        var without = HandStats.Model(HandStats.Capture(seqs, 6, fires, new StatsOptions { IncludeFirstPosition = false }));
        Assert.Equal(NgramCoverage.PerNeuron(without, 1), NgramCoverage.PerNeuron(with, 1));   // unigrams stay exact
        for (int n = 2; n <= 3; n++)
        {
            var exact = NgramCoverage.PerNeuron(without, n).ToDictionary(c => (c.Layer, c.Neuron));
            var bounded = NgramCoverage.PerNeuron(with, n);
            Assert.Equal(exact.Count, bounded.Count);
            foreach (var b in bounded)
            {
                var e = exact[(b.Layer, b.Neuron)];
                Assert.True(e.Exact);
                Assert.Equal(e.Activations, b.Activations);
                Assert.InRange(e.Lower, b.Lower, b.Upper ?? int.MaxValue);
            }
            var options = DetectorOptions.Tokens with { N = n, MinOccurrences = 1, MaxCoverage = 50 };
            var truth = NgramDetectors.Find(without, options).Detectors.Select(d => (d.Layer, d.Neuron)).ToHashSet();
            Assert.Subset(truth, NgramDetectors.Find(with, options).Detectors.Select(d => (d.Layer, d.Neuron)).ToHashSet());
        }
    }

    [Fact]
    public void PerNeuron_Refuses_WhenPositionsWereNotTracked()
    {
        long[][] seqs = [[HandStats.Bos, 5, HandStats.Bos, 6], [HandStats.Bos, 5]];
        var noPositions = HandStats.Model(HandStats.Capture(seqs, 2, (_, _, _, _, _) => true,
            new StatsOptions { IncludeFirstPosition = false, TrackPositions = false }));
        Assert.Equal(2, NgramCoverage.PerNeuron(noPositions, 1).Count);
        Assert.Contains("TrackPositions = false", Assert.Throws<InvalidOperationException>(() => NgramCoverage.PerNeuron(noPositions, 2)).Message);
    }

    [Fact]
    public void PerNeuron_Bigrams_CountOnlyActivationsThatHaveABigram()
    {
        // BOS 10 11 10 11: neuron fires on every 11; with BOS left out the bigram (10 11) triggers both firings.
        var model = HandStats.Model(HandStats.Capture([[HandStats.Bos, 10, 11, 10, 11], [HandStats.Bos, 11]], 1, (_, _, _, p, ids) => ids[p] == 11));
        var row = Assert.Single(NgramCoverage.PerNeuron(model, 2));
        Assert.Equal((2L, 1, 1), (row.Activations, row.Lower, row.Upper));   // the lone 11 at position 1 has no bigram
        Assert.Equal([(Pack(10, 11), 2L)], model.Stats.TopTriggers(0, 0, 2).Where(t => t.Key != Pack(HandStats.Bos, 11)));
    }
}
