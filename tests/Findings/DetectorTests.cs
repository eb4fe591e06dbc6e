using OptNeurons.Findings;
using OptNeurons.Stats;
using static OptNeurons.Stats.NgramKey;

namespace OptNeurons.Tests.Findings;

public class DetectorTests
{
    // On HandStats.DetectorCorpus (12 occurs 20 times: sequences 0–11 and 12–19).
    static bool Fires(int neuron, int seq, int p, long[] ids) => neuron switch
    {
        0 => p == 0 || ids[p] is 10 or 11,                 // detects 10 and 11 (and fires on BOS, like many neurons)
        1 => ids[p] == 12 && seq is not (12 or 13),         // 18 of 20: fails step 2
        2 => ids[p] == 10 || (ids[p] == 12 && seq < 6),     // 10 always, 12 six times: fails step 3
        3 => p == 0,                                        // BOS only
        4 => ids[p] == 13,                                  // 13 occurs 3 times: below MinOccurrences
        5 => ids[p] == 14,                                  // 14 occurs exactly 10 times
        6 => ids[p] == 12 && seq != 12,                     // 19 of 20 = exactly 95%
        7 => p == 3 && seq < 12,                            // the 12 of trigram (10 11 12) only
        _ => false,                                         // 8: dead
    };

    static ModelStats Model(bool includeFirst = true) => HandStats.Model(HandStats.Capture(HandStats.DetectorCorpus(), 9,
        (_, n, s, p, ids) => Fires(n, s, p, ids), new StatsOptions { IncludeFirstPosition = includeFirst }));

    static Dictionary<int, long[]> Found(DetectorSearch s) => s.Detectors.ToDictionary(d => d.Neuron, d => d.Ngrams.ToArray());

    [Fact]
    public void Find_Tokens_AppliesTheThreeStepsExactly()
    {
        var search = NgramDetectors.Find(Model());
        Assert.Equal(new Dictionary<int, long[]> { [0] = [10, 11], [5] = [14], [6] = [12] }, Found(search));
        Assert.Empty(search.Undecided);
        var d0 = search.Detectors.Single(d => d.Neuron == 0);
        Assert.Equal((24L, 24L, 2, true), (d0.Activations, d0.CoveredActivations, d0.Coverage, d0.SketchExact));
    }

    [Fact]
    public void Find_MinOccurrencesOne_AcceptsTheRareToken()
    {
        var search = NgramDetectors.Find(Model(), DetectorOptions.Tokens with { MinOccurrences = 1 });
        Assert.Equal([0, 4, 5, 6], search.Detectors.Select(d => d.Neuron));
        Assert.Equal([13L], search.Detectors.Single(d => d.Neuron == 4).Ngrams);
    }

    [Fact]
    public void Find_CountingBos_MakesTheBosOnlyNeuronADetectorOfBos()
    {
        var search = NgramDetectors.Find(Model(), DetectorOptions.Tokens with { Counting = new TriggerCounting { ExcludeFirstPosition = false } });
        var found = Found(search);
        Assert.Equal([HandStats.Bos], found[3]);
        Assert.Equal([HandStats.Bos, 10, 11], found[0]);
        Assert.Equal([3], search.Detectors.Where(d => d.DetectsOnly(HandStats.Bos)).Select(d => d.Neuron));
        Assert.Equal([5], search.Detectors.Where(d => d.DetectsOnly(14)).Select(d => d.Neuron));
    }

    [Fact]
    public void Find_IsTheSame_WhetherPositionZeroWasSubtractedOrNeverCounted()
    {
        foreach (var options in new[] { DetectorOptions.Tokens, DetectorOptions.Trigrams })
        {
            var (a, b) = (NgramDetectors.Find(Model(true), options), NgramDetectors.Find(Model(false), options));
            Assert.Equal(a.Detectors.Select(d => d with { Ngrams = [] }), b.Detectors.Select(d => d with { Ngrams = [] }));
            Assert.Equal(a.Detectors.Select(d => d.Ngrams.ToArray()), b.Detectors.Select(d => d.Ngrams.ToArray()));
        }
    }

    [Fact]
    public void Find_Trigrams_FindsTheTrigramDetector()
    {
        var found = Found(NgramDetectors.Find(Model(), DetectorOptions.Trigrams));
        // Neurons 1 and 6 also qualify: of their activations only those at the 12 of (10 11 12) have a trigram, and they
        // fire on all 12 of its occurrences. Neuron 2 fires on 6 of them: not covered.
        Assert.Equal([1, 6, 7], found.Keys.Order());
        Assert.Equal([Pack(10, 11, 12)], found[7]);
        Assert.Equal([Pack(10, 11, 12)], found[1]);
    }

    [Fact]
    public void Find_WithInexactSketch_ReportsUndecidedInsteadOfGuessing()
    {
        // Capacity 2: neuron fires on all 10 of a and b, once on c and d: kept a 9, b 9, error 1. Truly 20 of 22 < 95%.
        long[] tokens = [.. Enumerable.Repeat(20L, 10), .. Enumerable.Repeat(21L, 10), .. Enumerable.Repeat(22L, 10), .. Enumerable.Repeat(23L, 10)];
        var seqs = tokens.Select(t => new long[] { HandStats.Bos, t }).ToArray();
        var stats = HandStats.Capture(seqs, 1, (_, _, s, p, ids) => ids[p] is 20 or 21 || s is 20 or 30,
                                      new StatsOptions { IncludeFirstPosition = false, SketchCapacity = 2 });
        var search = NgramDetectors.Find(HandStats.Model(stats));
        Assert.Empty(search.Detectors);
        Assert.Equal([(0, 0)], search.Undecided);
        Assert.Equal(1, Assert.Single(NgramDetectors.PerLayer(search)).Undecided);
    }

    [Fact]
    public void Find_SeparatorInitialTrigram_IsUndecided_WhereItsOccurrencesAtPositionZeroAreUnknown()
    {
        // </s> 5 6 7 </s> 5 6: the neuron fires on the second 6 only, so it detects the trigram (</s> 5 6) that starts at a
        // separator, on every one of its 12 occurrences there. Statistics that counted position 0 hold 24 occurrences and
        // not how many started at position 0 (at most 12, one per sequence): the neuron may be a detector, so it must be
        // undecided, not rejected. Without position 0 the counts are exact and it is one.
        long[][] seqs = [.. Enumerable.Repeat(new long[] { HandStats.Bos, 5, 6, 7, HandStats.Bos, 5, 6 }, 12)];
        Fires fires = (_, _, _, p, _) => p == 6;
        var counted = NgramDetectors.Find(HandStats.Model(HandStats.Capture(seqs, 1, fires)), DetectorOptions.Trigrams);
        Assert.Empty(counted.Detectors);
        Assert.Equal([(0, 0)], counted.Undecided);
        var exact = NgramDetectors.Find(HandStats.Model(HandStats.Capture(seqs, 1, fires, new StatsOptions { IncludeFirstPosition = false })), DetectorOptions.Trigrams);
        Assert.Equal([Pack(HandStats.Bos, 5, 6)], Assert.Single(exact.Detectors).Ngrams);
    }

    [Fact]
    public void PerLayer_CountsDetectedCumulativeAndNewTokens()
    {
        // Layer 0: {10, 11} and {14}; layer 1: {11} and {12}; layer 2: {10}.
        Fires fires = (l, n, _, p, ids) => (l, n) switch
        {
            (0, 0) => ids[p] is 10 or 11, (0, 1) => ids[p] == 14,
            (1, 0) => ids[p] == 11, (1, 1) => ids[p] == 12,
            (2, 0) => ids[p] == 10, _ => false,
        };
        var model = HandStats.Model(HandStats.Capture(HandStats.DetectorCorpus(), 2, fires, layers: 3), numLayers: 6);
        var rows = NgramDetectors.PerLayer(NgramDetectors.Find(model));
        Assert.Equal([(0, 2, 3, 3, 3, 3), (1, 2, 2, 4, 1, 1), (2, 1, 1, 4, 0, 1)],
                     rows.Select(r => (r.Layer, r.Detectors, r.Detected, r.Cumulative, r.NewOverall, r.NewVersusPrevious)));
        Assert.Equal([0.0, 0.2, 0.4], rows.Select(r => r.Depth));
    }
}
