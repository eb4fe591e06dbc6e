using OptNeurons.Stats;
using TorchSharp;
using static OptNeurons.Stats.NgramKey;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Stats;

/// <summary>
/// One batch, written out by hand. Row 0 is left-padded: pad pad BOS(2) 5 6 (positions -, -, 0, 1, 2).
/// Row 1 is right-padded: BOS(2) 5 7 5 pad (positions 0, 1, 2, 3, -). Pads carry large "activations" that must not count.
/// </summary>
public class HandComputedTests
{
    const int Layer = 3;   // a model layer number that is not its row index, to catch mix-ups

    static readonly long[,] Ids = { { 1, 1, 2, 5, 6 }, { 2, 5, 7, 5, 1 } };
    static readonly long[,] Mask = { { 0, 0, 1, 1, 1 }, { 1, 1, 1, 1, 0 } };
    static readonly float[,,] Acts =
    {
        { { 1, 1, 1 }, { 0.5f, 0, 2 }, { 1, 0, 0 }, { 0, 2, 0 }, { 3, 0, 1 } },       // row 0: pad, pad, BOS, 5, 6
        { { 0.2f, 0, 0 }, { 0, 1, 0 }, { 0, 0, 0.1f }, { 1, 1, 0 }, { 9, 9, 9 } },    // row 1: BOS, 5, 7, 5, pad
    };

    static NeuronStats Run(bool includeFirst, bool trackPositions = true)
    {
        using var c = new NeuronStatsCollector(new StatsOptions { IncludeFirstPosition = includeFirst, TrackPositions = trackPositions, SketchCapacity = 8 },
                                               [Layer], ffnDim: 3, maxLength: 4, vocabSize: 10);
        using (inference_mode())   // as inside a model's forward hook
        using (NewDisposeScope())
        {
            c.BeginBatch(tensor(Ids), tensor(Mask));
            c.Update(Layer, tensor(Acts));
        }
        return c.Result();
    }

    static (long, long)[] Top(NeuronStats s, int neuron, int n) => s.TopTriggers(Layer, neuron, n).Select(p => (p.Key, p.Count)).ToArray();

    [Fact]
    public void WithFirstPosition_CountsEveryRealToken()
    {
        var s = Run(includeFirst: true);
        Assert.Equal(7, s.TokenCount);
        Assert.Equal(2, s.SequenceCount);
        Assert.Equal([4L, 3, 2], s.ActiveCounts(Layer).ToArray());
        Assert.Equal([2L, 2, 2, 1], s.PositionTokenCounts.ToArray());
        // [T, F]: pos 0 = both BOS; pos 1 = the two 5s; pos 2 = 6 (row 0) and 7 (row 1); pos 3 = the last 5.
        Assert.Equal([2, 0, 0, /**/ 0, 2, 0, /**/ 1, 0, 2, /**/ 1, 1, 0], s.PositionActiveCounts(Layer).ToArray());
        Assert.Equal([2, 0, 1, 1], s.PositionActiveCurve(Layer, 0));

        Assert.Equal([(2L, 2L), (5, 3), (6, 1), (7, 1)], s.OccurrenceEntries(1).ToArray());
        Assert.Equal([(Pack(2, 5), 2L), (Pack(5, 6), 1), (Pack(5, 7), 1), (Pack(7, 5), 1)], s.OccurrenceEntries(2).OrderBy(e => e.Key).ToArray());
        Assert.Equal(1, s.Occurrences(3, Pack(2, 5, 6)));
        Assert.Equal(1, s.Occurrences(3, Pack(2, 5, 7)));
        Assert.Equal(1, s.Occurrences(3, Pack(5, 7, 5)));
        Assert.Equal(3, s.OccurrenceEntries(3).Count());

        // Neuron 0 fires at BOS (twice), at 6 (after 2 5) and at the final 5 (after 5 7).
        Assert.Equal([(2L, 2L), (5, 1), (6, 1)], Top(s, 0, 1));
        Assert.Equal([(Pack(5, 6), 1L), (Pack(7, 5), 1)], Top(s, 0, 2).OrderBy(p => p.Item1));
        Assert.Equal([(Pack(2, 5, 6), 1L), (Pack(5, 7, 5), 1)], Top(s, 0, 3).OrderBy(p => p.Item1));
        // Neuron 1 fires at every 5; at position 1 no trigram exists.
        Assert.Equal([(5L, 3L)], Top(s, 1, 1));
        Assert.Equal([(Pack(2, 5), 2L), (Pack(7, 5), 1)], Top(s, 1, 2));
        Assert.Equal([(Pack(5, 7, 5), 1L)], Top(s, 1, 3));
        // Neuron 2 fires at 6 and 7.
        Assert.Equal([(6L, 1L), (7, 1)], Top(s, 2, 1));
        Assert.Equal([(Pack(5, 6), 1L), (Pack(5, 7), 1)], Top(s, 2, 2).OrderBy(p => p.Item1));
        Assert.Equal([(Pack(2, 5, 6), 1L), (Pack(2, 5, 7), 1)], Top(s, 2, 3).OrderBy(p => p.Item1));
        for (int f = 0; f < 3; f++) for (int n = 1; n <= 3; n++) Assert.Equal(0, s.SketchError(Layer, f, n));
    }

    [Fact]
    public void WithoutFirstPosition_DropsBosAndEveryNgramThatStartsThere()
    {
        var s = Run(includeFirst: false);
        Assert.Equal(5, s.TokenCount);
        Assert.Equal(2, s.SequenceCount);
        Assert.Equal([2L, 3, 2], s.ActiveCounts(Layer).ToArray());
        Assert.Equal([0L, 2, 2, 1], s.PositionTokenCounts.ToArray());
        Assert.Equal([0, 0, 0, /**/ 0, 2, 0, /**/ 1, 0, 2, /**/ 1, 1, 0], s.PositionActiveCounts(Layer).ToArray());

        Assert.Equal([(5L, 3L), (6, 1), (7, 1)], s.OccurrenceEntries(1).ToArray());
        Assert.Equal(0, s.Occurrences(1, 2));
        Assert.Equal([(Pack(5, 6), 1L), (Pack(5, 7), 1), (Pack(7, 5), 1)], s.OccurrenceEntries(2).OrderBy(e => e.Key).ToArray());
        Assert.Equal([(Pack(5, 7, 5), 1L)], s.OccurrenceEntries(3).ToArray());

        Assert.Equal([(5L, 1L), (6, 1)], Top(s, 0, 1));
        Assert.Equal([(Pack(5, 6), 1L), (Pack(7, 5), 1)], Top(s, 0, 2).OrderBy(p => p.Item1));
        Assert.Equal([(Pack(5, 7, 5), 1L)], Top(s, 0, 3));
        Assert.Equal([(5L, 3L)], Top(s, 1, 1));
        Assert.Equal([(Pack(7, 5), 1L)], Top(s, 1, 2));
        Assert.Equal([(Pack(5, 7, 5), 1L)], Top(s, 1, 3));
        Assert.Equal([(6L, 1L), (7, 1)], Top(s, 2, 1));
        Assert.Empty(Top(s, 2, 3));
        Assert.False(s.Options.IncludeFirstPosition);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WithoutPositions_ActiveCountsAreCountedDirectly_AndAgree(bool includeFirst)
    {
        // With positions, active counts are the per-position counts summed; without, a column sum per batch.
        Assert.Equal(Run(includeFirst).ActiveCounts(Layer).ToArray(), Run(includeFirst, trackPositions: false).ActiveCounts(Layer).ToArray());
        Assert.Equal([4L, 3, 2], Run(includeFirst: true, trackPositions: false).ActiveCounts(Layer).ToArray());
    }

    [Fact]
    public void Rectangles_GroupBackToBackRowsWithTheSameRun_AndSplitAtHolesAndEmptyRows()
    {
        long[][] mask =
        [
            [1, 1, 1, 1, 1],   // positions 0-4: counted at columns 1-4
            [1, 1, 1, 1, 1],   // the same run: one rectangle with the row above
            [0, 0, 0, 0, 1],   // only position 0: nothing counted
            [1, 1, 1, 1, 1],   // the same run as rows 0-1, but not back to back with them
            [0, 1, 1, 1, 1],   // positions 0-3 at columns 1-4: counted at columns 2-4
            [1, 1, 0, 1, 1],   // a hole: position 1 at column 1, then positions 2-3 at columns 3-4
        ];
        var layout = BatchLayout.Build(new long[30], mask.SelectMany(r => r).ToArray(), 6, 5, includeFirst: false, maxLength: 5, vocabSize: 10);
        Assert.Equal([(0, 1, 1L, 4, 2), (3, 1, 1L, 4, 1), (4, 2, 1L, 3, 1), (5, 1, 1L, 1, 1), (5, 3, 2L, 2, 1)], layout.Rectangles);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CountsOfRandomMasksWithHolesAndEmptyRows_EqualATokenByTokenCount(bool includeFirst)
    {
        const int B = 7, T = 300, F = 5, Batches = 3;   // T > 255: the byte sums are taken in blocks
        var rng = new Random(31);
        var active = new long[F];
        var byPosition = new long[T, F];
        using var positions = new NeuronStatsCollector(new StatsOptions { IncludeFirstPosition = includeFirst, NgramOrders = [] }, [0], F, T, 10);
        using var plain = new NeuronStatsCollector(new StatsOptions { IncludeFirstPosition = includeFirst, NgramOrders = [], TrackPositions = false }, [0], F, T, 10);
        for (int batch = 0; batch < Batches; batch++)
        {
            var mask = new long[B, T];
            var acts = new float[B, T, F];
            for (int b = 0; b < B; b++)
            {
                int kind = rng.Next(4);   // unpadded, left-padded, holes, or (rarely) empty
                int pad = kind == 1 ? rng.Next(T) : 0;
                for (int t = 0; t < T; t++) mask[b, t] = kind == 3 ? 0 : kind == 2 ? (rng.NextDouble() < 0.8 ? 1 : 0) : t >= pad ? 1 : 0;
                for (int t = 0, pos = -1; t < T; t++)
                {
                    for (int f = 0; f < F; f++) acts[b, t, f] = rng.NextDouble() < 0.4 ? 1f : 0f;
                    if (mask[b, t] == 0) continue;
                    if (++pos == 0 && !includeFirst) continue;
                    for (int f = 0; f < F; f++) if (acts[b, t, f] > 0) { active[f]++; byPosition[pos, f]++; }
                }
            }
            using var scope = NewDisposeScope();
            foreach (var c in new[] { positions, plain })
            {
                c.BeginBatch(zeros(B, T, ScalarType.Int64), tensor(mask));
                c.Update(0, tensor(acts));
            }
        }
        var withPositions = positions.Result();
        Assert.Equal(active, withPositions.ActiveCounts(0).ToArray());
        Assert.Equal(active, plain.Result().ActiveCounts(0).ToArray());
        Assert.Equal(byPosition.Cast<long>().Select(x => (int)x), withPositions.PositionActiveCounts(0).ToArray());
    }

    [Fact]
    public void NgramKey_PacksOldestTokenHighest()
    {
        Assert.Equal((2L << 34) | (5L << 17) | 7L, Pack(2, 5, 7));
        Assert.Equal([2, 5, 7], Unpack(Pack(2, 5, 7), 3));
        Assert.Equal([131071, 0], Unpack(Pack(131071, 0), 2));
        Assert.Contains("131072", Assert.Throws<ArgumentException>(() => Pack(131072)).Message);
    }
}
