using OptNeurons.Stats;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Stats;

/// <summary>The per-neuron summaries against hand-computed and exact counts. One neuron that is always active.</summary>
public class MisraGriesTests
{
    static NeuronStatsCollector Collector(int capacity, int[] orders, int vocab = 10, int ffn = 1) =>
        new(new StatsOptions { SketchCapacity = capacity, NgramOrders = orders, TrackPositions = false }, [0], ffn, maxLength: 64, vocabSize: vocab);

    /// <summary>One sequence per batch; neuron f is active at token t where active(f, t).</summary>
    static void Feed(NeuronStatsCollector c, long[] ids, int ffn, Func<int, int, bool> active)
    {
        using var scope = NewDisposeScope();
        var acts = new float[1, ids.Length, ffn];
        for (int t = 0; t < ids.Length; t++) for (int f = 0; f < ffn; f++) acts[0, t, f] = active(f, t) ? 1f : 0f;
        c.BeginBatch(tensor(ids, [1, ids.Length]), ones(1, ids.Length, ScalarType.Int64));
        c.Update(0, tensor(acts));
    }

    [Fact]
    public void Overflow_SubtractsTheKPlusFirstCount_AndBoundsTheError()
    {
        using var c = Collector(capacity: 2, orders: [1]);
        // Batch 1: {5: 3, 7: 1, 9: 1}; 3 keys > K = 2, the 3rd largest count is 1: {5: 2}, error 1.
        Feed(c, [5, 5, 5, 7, 9], 1, (_, _) => true);
        var s = c.Result();
        Assert.Equal([(5L, 2L)], s.TopTriggers(0, 0, 1));
        Assert.Equal(1, s.SketchError(0, 0, 1));
        // Batch 2: {7: 2, 9: 1} merged with {5: 2} gives {5: 2, 7: 2, 9: 1}; subtract 1: {5: 1, 7: 1}, error 2.
        Feed(c, [7, 7, 9], 1, (_, _) => true);
        s = c.Result();
        Assert.Equal([(5L, 1L), (7, 1)], s.TopTriggers(0, 0, 1));
        Assert.Equal(2, s.SketchError(0, 0, 1));
        // True counts 5: 3, 7: 3, 9: 2 — each undercount (2, 2, 2 for the dropped 9) is within the error.
        Assert.Equal(3, s.Occurrences(1, 5));
        Assert.Equal(2, s.Occurrences(1, 9));
    }

    [Fact]
    public void RandomStreams_StoredCountsAreLowerBounds_WithinTheError()
    {
        const int K = 6, Vocab = 30, Ffn = 4;
        using var c = Collector(capacity: K, orders: [1, 2, 3], vocab: Vocab, ffn: Ffn);
        var rng = new Random(2024);
        var truth = new Dictionary<long, long>[Ffn, 3];
        for (int f = 0; f < Ffn; f++) for (int n = 0; n < 3; n++) truth[f, n] = [];
        var events = new long[Ffn];
        for (int batch = 0; batch < 40; batch++)
        {
            // Skewed ids (small ids frequent) so that some n-grams are heavy and others rare.
            var ids = Enumerable.Range(0, rng.Next(3, 30)).Select(_ => (long)(Vocab * Math.Pow(rng.NextDouble(), 3))).ToArray();
            var active = new bool[Ffn, ids.Length];
            for (int f = 0; f < Ffn; f++) for (int t = 0; t < ids.Length; t++) active[f, t] = rng.NextDouble() < 0.2 + 0.2 * f;
            Feed(c, ids, Ffn, (f, t) => active[f, t]);
            for (int f = 0; f < Ffn; f++)
                for (int t = 0; t < ids.Length; t++)
                {
                    if (!active[f, t]) continue;
                    events[f]++;
                    for (int n = 1; n <= Math.Min(3, t + 1); n++)
                    {
                        var key = NgramKey.Pack(ids[(t - n + 1)..(t + 1)].Select(i => (int)i).ToArray());
                        truth[f, n - 1][key] = truth[f, n - 1].GetValueOrDefault(key) + 1;
                    }
                }
        }
        var s = c.Result();
        for (int f = 0; f < Ffn; f++)
            for (int n = 1; n <= 3; n++)
            {
                var stored = s.TopTriggers(0, f, n).ToDictionary(p => p.Key, p => p.Count);
                long error = s.SketchError(0, f, n);
                Assert.True(truth[f, n - 1].Count > K, "the stream must overflow the summary to test anything");
                Assert.True(error > 0);
                Assert.True(error * (K + 1) <= events[f], $"error {error} exceeds events/(K+1) = {events[f]}/{K + 1}");
                Assert.True(stored.Count <= K);
                foreach (var (key, count) in stored) Assert.True(truth[f, n - 1].ContainsKey(key) && count > 0);
                foreach (var (key, exact) in truth[f, n - 1])
                {
                    long undercount = exact - stored.GetValueOrDefault(key);
                    Assert.InRange(undercount, 0, error);
                }
            }
    }

    [Fact]
    public void AtMostKDistinct_IsExact()
    {
        using var c = Collector(capacity: 8, orders: [1], vocab: 8, ffn: 2);
        var rng = new Random(99);
        var truth = new long[2, 8];
        for (int batch = 0; batch < 20; batch++)
        {
            var ids = Enumerable.Range(0, 16).Select(_ => (long)rng.Next(8)).ToArray();
            var active = Enumerable.Range(0, 2).Select(_ => ids.Select(_ => rng.Next(2) == 1).ToArray()).ToArray();
            Feed(c, ids, 2, (f, t) => active[f][t]);
            for (int f = 0; f < 2; f++) for (int t = 0; t < ids.Length; t++) if (active[f][t]) truth[f, ids[t]]++;
        }
        var s = c.Result();
        for (int f = 0; f < 2; f++)
        {
            Assert.Equal(0, s.SketchError(0, f, 1));
            var expected = Enumerable.Range(0, 8).Where(k => truth[f, k] > 0).Select(k => ((long)k, truth[f, k]))
                .OrderByDescending(p => p.Item2).ThenBy(p => p.Item1).ToArray();
            Assert.Equal(expected, s.TopTriggers(0, f, 1).Select(p => (p.Key, p.Count)).ToArray());
            Assert.Equal(s.ActiveCounts(0)[f], expected.Sum(p => p.Item2));
        }
    }
}

public class SketchSelectTests
{
    [Fact]
    public void Select_FindsTheSameRankAsSorting()
    {
        var rng = new Random(77);
        for (int trial = 0; trial < 300; trial++)
        {
            // Few distinct values, as trigger counts are (mostly 1s and 2s).
            var values = Enumerable.Range(0, rng.Next(1, 300)).Select(_ => rng.Next(1, 1 + rng.Next(1, 20))).ToArray();
            int rank = rng.Next(values.Length);
            var sorted = values.Order().ToArray();
            Assert.Equal(sorted[rank], NgramSketch.Select(values.AsSpan(), rank));
        }
    }
}

public class SketchCutTests
{
    [Theory]
    [InlineData(3)]      // counts 1–3: found by the counting passes
    [InlineData(40)]     // counts past the counting passes: found by the quickselect
    public void KPlusFirstLargest_IsTheCountOfRankKInDescendingOrder(int maxCount)
    {
        var rng = new Random(maxCount);
        var work = new int[400];
        for (int trial = 0; trial < 300; trial++)
        {
            var counts = Enumerable.Range(0, rng.Next(2, 400)).Select(_ => rng.Next(0, maxCount + 1)).ToArray();
            int k = rng.Next(counts.Length);
            int expected = counts.OrderDescending().ElementAt(k);
            Assert.Equal(expected, NgramSketch.KPlusFirstLargest(counts, k, work));
        }
    }
}

public class SketchDeterminismTests
{
    [Fact]
    public void ParallelNeuronUpdates_GiveTheSameResultEveryRun()
    {
        // 512 neurons = many parallel chunks; K = 3 so that almost every summary overflows and the cut matters.
        var seqs = StatsTestData.RandomSequences(seed: 11, count: 6, minLength: 20, maxLength: 40, vocab: 40, layers: 1, ffn: 512, density: 0.3);
        NeuronStats Run()
        {
            using var c = new NeuronStatsCollector(new StatsOptions { SketchCapacity = 3, TrackPositions = false }, [0], 512, 64, 40);
            StatsTestData.Feed(c, seqs, batchSize: 2, leftPad: true, [0]);
            return c.Result();
        }
        var first = Run();
        Assert.True(first.SketchError(0, 100, 3) > 0);
        StatsTestData.AssertEqual(first, Run());
    }
}

public class SketchCountTests
{
    [Fact]
    public void CountByRank_GivesEachKeyOnceWithItsCount_InIncreasingKeyOrder()
    {
        // Two padded rows of a batch with few distinct ids, so keys repeat; position 0 has no bigram or trigram.
        var rng = new Random(31);
        const int Rows = 2, Columns = 150;
        var ids = Enumerable.Range(0, Rows * Columns).Select(_ => (long)rng.Next(6)).ToArray();
        var mask = Enumerable.Range(0, Rows * Columns).Select(i => i % Columns < 20 * (i / Columns) ? 0L : 1L).ToArray();
        var layout = BatchLayout.Build(ids, mask, Rows, Columns, includeFirst: true, maxLength: Columns, vocabSize: 6);
        var scratch = new SketchScratch(layout.Count, capacity: 4);
        for (int trial = 0; trial < 20; trial++)
        {
            var events = Enumerable.Range(0, layout.Count).Where(_ => rng.NextDouble() < 0.3).ToArray();
            var bits = new ulong[(layout.Count + 63) / 64];
            foreach (int j in events) bits[j / 64] |= 1UL << (j % 64);
            var active = scratch.Active.AsSpan(0, SketchUpdater.ActiveTokens(bits, scratch.Active)).ToArray();
            Assert.Equal(events, active);
            for (int n = 1; n <= 3; n++)
            {
                var expected = events.Select(j => layout.Keys[n - 1][j]).Where(k => k >= 0)
                    .GroupBy(k => k).Select(g => (g.Key, g.Count())).OrderBy(p => p.Key).ToArray();
                int d = SketchUpdater.CountByRank(active, layout.KeyRanks[n - 1], layout.DistinctKeys[n - 1], scratch);
                Assert.Equal(expected, scratch.InKeys.Take(d).Zip(scratch.InCounts.Take(d)).ToArray());
            }
        }
    }

    [Fact]
    public void CountByRank_RefusesATokenPastTheBatch()
    {
        var layout = BatchLayout.Build([5, 6, 7], [1, 1, 1], 1, 3, includeFirst: true, maxLength: 3, vocabSize: 8);
        var scratch = new SketchScratch(layout.Count, capacity: 4);
        Assert.Throws<ArgumentException>(() => SketchUpdater.CountByRank([0, 3], layout.KeyRanks[0], layout.DistinctKeys[0], scratch));
    }

    [Fact]
    public void Transpose64_MovesBitCOfWordRToBitROfWordC()
    {
        var rng = new Random(64);
        var a = Enumerable.Range(0, 64).Select(_ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40)).ToArray();
        var t = (ulong[])a.Clone();
        SketchUpdater.Transpose64(t);
        for (int r = 0; r < 64; r++)
            for (int c = 0; c < 64; c++)
                Assert.Equal((a[r] >> c) & 1, (t[c] >> r) & 1);
    }

    [Theory]
    [InlineData(1, 37, 70)]     // tokens not a multiple of 64, one full block of neurons and a partial one
    [InlineData(3, 50, 64)]     // three padded rows: 130-odd tokens, three bit words
    [InlineData(2, 9, 5)]       // fewer neurons than one block
    public void Summaries_FromTheTokenMajorMask_CountEveryTriggerExactly(int rows, int columns, int neurons)
    {
        // Few distinct ids and a large K: every summary stays exact, so it must equal a count by brute force.
        var rng = new Random(rows * 1000 + columns);
        var ids = new long[rows, columns];
        var mask = new long[rows, columns];
        var acts = new float[rows, columns, neurons];
        for (int b = 0; b < rows; b++)
            for (int t = 0; t < columns; t++)
            {
                ids[b, t] = rng.Next(5);
                mask[b, t] = t >= 4 * b ? 1 : 0;   // row b starts with 4·b pads
                for (int f = 0; f < neurons; f++) acts[b, t, f] = rng.NextDouble() < 0.3 ? 1f : 0f;
            }
        using var c = new NeuronStatsCollector(new StatsOptions { SketchCapacity = 200 }, [0], neurons, maxLength: columns, vocabSize: 5);
        using (NewDisposeScope())
        {
            c.BeginBatch(tensor(ids), tensor(mask));
            c.Update(0, tensor(acts));
        }
        var s = c.Result();
        for (int f = 0; f < neurons; f++)
            for (int n = 1; n <= 3; n++)
            {
                var truth = new Dictionary<long, long>();
                for (int b = 0; b < rows; b++)
                    for (int t = 4 * b + n - 1; t < columns; t++)
                        if (acts[b, t, f] > 0)
                        {
                            var key = NgramKey.Pack(Enumerable.Range(t - n + 1, n).Select(i => (int)ids[b, i]).ToArray());
                            truth[key] = truth.GetValueOrDefault(key) + 1;
                        }
                Assert.Equal(0, s.SketchError(0, f, n));
                Assert.Equal(truth.OrderBy(p => p.Key), s.TopTriggers(0, f, n).Select(p => KeyValuePair.Create(p.Key, p.Count)).OrderBy(p => p.Key));
            }
    }
}
