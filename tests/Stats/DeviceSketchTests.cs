using OptNeurons.Stats;
using OptNeurons.Tests.Support;
using TorchSharp;
using static OptNeurons.Tests.Stats.StatsTestData;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Stats;

/// <summary>
/// The n-gram summaries updated with tensor operations (the path of a CUDA device, forced here on the CPU) against the
/// host path: the same statistics byte for byte, with exact and overflowing summaries, padding, a subset of orders,
/// steps of one to all neurons and resumed runs.
/// </summary>
public class DeviceSketchTests
{
    static NeuronStatsCollector Collector(StatsOptions options, int[] layers, int ffn, int maxLength, int vocab, bool onDevice,
                                          long step = DeviceSketches.DefaultStepEntries) =>
        new(options, layers, ffn, maxLength, vocab, device: null, sketchesOnDevice: onDevice, sketchStep: step);

    static NeuronStats Run(StatsOptions options, IReadOnlyList<Sequence> seqs, int[] layers, int ffn, int maxLength, int vocab,
                           bool onDevice, int batchSize, bool leftPad, long step = DeviceSketches.DefaultStepEntries)
    {
        using var c = Collector(options, layers, ffn, maxLength, vocab, onDevice, step);
        Feed(c, seqs, batchSize, leftPad, layers);
        return c.Result();
    }

    static long TotalError(NeuronStats s, int[] layers, int ffn, int n) =>
        layers.Sum(l => Enumerable.Range(0, ffn).Sum(f => s.SketchError(l, f, n)));

    static long StoredEntries(NeuronStats s, int n) => s.Sketch(n).Lengths.Sum(x => (long)x);

    [Fact]
    public void ExactSummaries_EqualTheHostPath()
    {
        // Few distinct n-grams and a large K: no summary overflows.
        int[] layers = [0, 3];
        var options = new StatsOptions { SketchCapacity = 200 };
        var seqs = RandomSequences(seed: 21, count: 7, minLength: 1, maxLength: 12, vocab: 4, layers: 2, ffn: 9, density: 0.4);
        var host = Run(options, seqs, layers, 9, 16, 4, onDevice: false, batchSize: 3, leftPad: false);
        var device = Run(options, seqs, layers, 9, 16, 4, onDevice: true, batchSize: 3, leftPad: false);
        foreach (int n in options.NgramOrders)
        {
            Assert.Equal(0, TotalError(host, layers, 9, n));
            Assert.True(StoredEntries(host, n) > 0);
        }
        AssertEqual(host, device);
    }

    [Theory]
    [InlineData(DeviceSketches.DefaultStepEntries, 4)]   // one step per layer
    [InlineData(300, 4)]                                 // steps of a few neurons
    [InlineData(1, 4)]                                   // one neuron per step
    [InlineData(DeviceSketches.DefaultStepEntries, 1)]   // K = 1: every second key overflows
    public void OverflowingSummaries_EqualTheHostPath(long step, int capacity)
    {
        int[] layers = [1, 2];
        var options = new StatsOptions { SketchCapacity = capacity };
        var seqs = RandomSequences(seed: 22, count: 10, minLength: 5, maxLength: 30, vocab: 25, layers: 2, ffn: 37, density: 0.45);
        var host = Run(options, seqs, layers, 37, 32, 25, onDevice: false, batchSize: 4, leftPad: true);
        var device = Run(options, seqs, layers, 37, 32, 25, onDevice: true, batchSize: 4, leftPad: true, step);
        foreach (int n in options.NgramOrders) Assert.True(TotalError(host, layers, 37, n) > 0, $"order {n} must overflow");
        AssertEqual(host, device);
    }

    [Fact]
    public void LayersWiderThan4096_WithFullWidthTrigramKeys_EqualTheHostPath()
    {
        // OPT's vocabulary makes trigram keys up to 50 bits long, and a block holds all three orders of 4,100 neurons:
        // its codes compare keys through their ranks in the batch, never as (neuron, key) pairs packed in one int64.
        int[] layers = [0];
        const int ffn = 4100, vocab = 50272;
        var options = new StatsOptions { SketchCapacity = 2 };
        var seqs = RandomSequences(seed: 26, count: 3, minLength: 4, maxLength: 6, vocab: vocab, layers: 1, ffn: ffn, density: 0.6);
        var host = Run(options, seqs, layers, ffn, 8, vocab, onDevice: false, batchSize: 3, leftPad: false);
        var device = Run(options, seqs, layers, ffn, 8, vocab, onDevice: true, batchSize: 3, leftPad: false);
        Assert.True(Enumerable.Range(4096, ffn - 4096).Sum(f => host.SketchError(0, f, 3)) > 0);   // the last neurons' trigrams overflow
        AssertEqual(host, device);
    }

    [Fact]
    public void LargestKeys_InABlockOf4096Neurons_EqualTheHostPath()
    {
        // The largest vocabulary a key holds: the trigram of three ids 131071 is 2^51 - 1, the largest key, in the last
        // order's range of the batch's tagged keys.
        int[] layers = [0];
        const int ffn = 4096, vocab = NgramKey.MaxVocabSize;
        var options = new StatsOptions { SketchCapacity = 2 };
        var seqs = RandomSequences(seed: 29, count: 3, minLength: 5, maxLength: 7, vocab: 3, layers: 1, ffn: ffn, density: 0.6)
            .Select(q => q with { Ids = q.Ids.Select(id => vocab - 1 - id).ToArray() }).ToList();   // ids 131069 … 131071
        Array.Fill(seqs[0].Ids, vocab - 1);                               // and one sequence of 131071 only,
        foreach (var token in seqs[0].Activations[0]) token[ffn - 1] = 1;   // on which the last neuron always fires
        var host = Run(options, seqs, layers, ffn, 8, vocab, onDevice: false, batchSize: 3, leftPad: false);
        var device = Run(options, seqs, layers, ffn, 8, vocab, onDevice: true, batchSize: 3, leftPad: false);
        Assert.Contains(host.TopTriggers(0, ffn - 1, 3), t => t.Key == (1L << 51) - 1);
        AssertEqual(host, device);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void PaddedBatches_WithoutFirstPosition_AndSomeOrders_EqualTheHostPath(bool leftPad, bool positions)
    {
        int[] layers = [4];
        var options = new StatsOptions { SketchCapacity = 3, IncludeFirstPosition = false, NgramOrders = [3, 1], TrackPositions = positions };
        // Lengths from 1: some batches have no trigram at all, some rows no counted token.
        var seqs = RandomSequences(seed: 23, count: 15, minLength: 1, maxLength: 14, vocab: 9, layers: 1, ffn: 11, density: 0.5);
        var host = Run(options, seqs, layers, 11, 16, 9, onDevice: false, batchSize: 5, leftPad);
        var device = Run(options, seqs, layers, 11, 16, 9, onDevice: true, batchSize: 5, leftPad, step: 40);
        Assert.True(TotalError(host, layers, 11, 3) > 0);
        AssertEqual(host, device);
    }

    [Fact]
    public void CutsAboveTheHistogram_AreSorted_AndEqualTheHostPath()
    {
        // Even neurons fire on nearly every token of a 3-token vocabulary: with K = 2 their third unigram has a count far
        // above HistogramBins in each batch, so their cut is found by sorting; odd neurons fire rarely, and their cuts
        // come from the histogram. Both kinds share every block.
        int[] layers = [0];
        const int ffn = 6, vocab = 3;
        var rng = new Random(27);
        var seqs = Enumerable.Range(0, 8).Select(_ =>
        {
            int len = rng.Next(90, 121);
            var ids = Enumerable.Range(0, len).Select(_ => (long)rng.Next(vocab)).ToArray();
            var acts = new[] { Enumerable.Range(0, len).Select(_ => Enumerable.Range(0, ffn)
                .Select(f => rng.NextDouble() < (f % 2 == 0 ? 0.95 : 0.1) ? 1f : 0f).ToArray()).ToArray() };
            return new Sequence(ids, acts);
        }).ToList();
        var options = new StatsOptions { SketchCapacity = 2 };
        var host = Run(options, seqs, layers, ffn, 128, vocab, onDevice: false, batchSize: 4, leftPad: true);
        var device = Run(options, seqs, layers, ffn, 128, vocab, onDevice: true, batchSize: 4, leftPad: true);
        Assert.All([0, 2, 4], f => Assert.True(host.SketchError(0, f, 1) > 2 * DeviceSketches.HistogramBins));   // two batches, each cut above the bins
        Assert.All([1, 3, 5], f => Assert.InRange(host.SketchError(0, f, 1), 1, 2 * DeviceSketches.HistogramBins - 1));
        AssertEqual(host, device);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TransposedActivations_CountAsTheirContiguousCopy(bool onDevice)
    {
        var ids = tensor(new long[,] { { 1, 2, 3, 1 }, { 2, 2, 3, 0 } });
        var mask = tensor(new long[,] { { 1, 1, 1, 1 }, { 1, 1, 1, 0 } });
        using var gen = new Generator(28);
        var acts = rand([4, 2, 3], generator: gen).sub(0.5).relu().transpose(0, 1);   // [B, T, F] in [T, B, F] memory order
        Assert.False(acts.is_contiguous());
        using var c = Collector(new StatsOptions { SketchCapacity = 2 }, [0], 3, 8, 5, onDevice);
        using var reference = Collector(new StatsOptions { SketchCapacity = 2 }, [0], 3, 8, 5, onDevice);
        reference.BeginBatch(ids, mask);
        reference.Update(0, acts.contiguous());
        c.BeginBatch(ids, mask);
        c.Update(0, acts);
        var result = c.Result();
        Assert.True(result.ActiveCounts(0).ToArray().Sum() > 0);
        AssertEqual(reference.Result(), result);
    }

    [Fact]
    public void LayerMajorUpdates_EqualBatchMajorOnTheHostPath()
    {
        int[] layers = [0, 1];
        var options = new StatsOptions { SketchCapacity = 2 };
        var seqs = RandomSequences(seed: 24, count: 6, minLength: 4, maxLength: 10, vocab: 12, layers: 2, ffn: 6, density: 0.5);
        var host = Run(options, seqs, layers, 6, 10, 12, onDevice: false, batchSize: 2, leftPad: false);

        using var c = Collector(options, layers, 6, 10, 12, onDevice: true);
        using var scope = NewDisposeScope();
        // Unpadded batches of two sequences of equal length: [2, len] ids and [2, len, F] activations per layer.
        var batches = seqs.Chunk(2).Select(pair =>
        {
            int len = pair.Max(s => s.Ids.Length);
            var ids = new long[2, len];
            var mask = new long[2, len];
            var acts = layers.Select(_ => new float[2, len, 6]).ToArray();
            for (int b = 0; b < 2; b++)
                for (int t = 0; t < pair[b].Ids.Length; t++)
                {
                    (ids[b, t], mask[b, t]) = (pair[b].Ids[t], 1);
                    for (int l = 0; l < 2; l++) for (int f = 0; f < 6; f++) acts[l][b, t, f] = pair[b].Activations[l][t][f];
                }
            return (Batch: c.CountBatch(tensor(ids), tensor(mask)), Acts: acts.Select(a => tensor(a)).ToArray());
        }).ToArray();
        for (int l = 0; l < 2; l++)
            foreach (var (batch, acts) in batches) c.Update(layers[l], acts[l], batch);
        Assert.All(batches, b => Assert.Null(b.Batch.OnDevice));   // freed after each batch's last layer
        AssertEqual(host, c.Result());
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void ResumedMidRun_EqualsOneUninterruptedRun(bool firstOnDevice, bool resumedOnDevice)
    {
        int[] layers = [2, 5];
        var options = new StatsOptions { SketchCapacity = 2 };
        var seqs = RandomSequences(seed: 25, count: 12, minLength: 3, maxLength: 9, vocab: 11, layers: 2, ffn: 5, density: 0.5);
        var expected = Run(options, seqs, layers, 5, 10, 11, onDevice: false, batchSize: 3, leftPad: false);

        using var dir = new TempDirectory();
        using (var first = Collector(options, layers, 5, 10, 11, firstOnDevice))
        {
            Feed(first, seqs[..6], 3, leftPad: false, layers);
            first.Result().Save(dir.Path);
        }
        using var resumed = NeuronStatsCollector.Resume(NeuronStats.Load(dir.Path), device: null, sketchesOnDevice: resumedOnDevice);
        Feed(resumed, seqs[6..], 3, leftPad: false, layers);
        var result = resumed.Result();
        Assert.True(TotalError(result, layers, 5, 1) > 0);
        AssertEqual(expected, result);
    }

    [Fact]
    public void LiveTensorCount_ReturnsToBaseline_AfterEveryBatch()
    {
        var options = new StatsOptions { SketchCapacity = 2 };
        using var host = Collector(options, [0, 1], ffn: 4, maxLength: 3, vocab: 10, onDevice: false);
        using var c = Collector(options, [0, 1], ffn: 4, maxLength: 3, vocab: 10, onDevice: true, step: 4);
        DisposeScopeManager.Statistics.Reset();
        long baseline = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var rng = new Random(6);
        for (int round = 0; round < 5; round++)
        {
            var data = new long[2, 3];
            for (int i = 0; i < 6; i++) data[i / 3, i % 3] = rng.Next(10);
            var values = new float[2, 3, 4];
            for (int i = 0; i < 24; i++) values[i / 12, i / 4 % 3, i % 4] = MathF.Max(0, (float)rng.NextDouble() - 0.3f);
            using (var ids = tensor(data))
            using (var mask = tensor(new long[,] { { 0, 1, 1 }, { 1, 1, 1 } }))
            using (var acts = tensor(values))
            {
                foreach (var collector in new[] { host, c })
                {
                    collector.BeginBatch(ids, mask);
                    collector.Update(0, acts);
                    collector.Update(1, acts);
                }
            }
            Assert.Equal(baseline, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        var result = c.Result();
        Assert.Equal(baseline, DisposeScopeManager.Statistics.ThreadTotalLiveCount);   // Result frees its copies too
        Assert.True(TotalError(result, [0, 1], 4, 1) > 0);
        AssertEqual(host.Result(), result);
    }

    /// <summary>One sequence per batch, one layer, orders [1]; neuron f is active at token t where active(f, t).</summary>
    static void FeedOne(NeuronStatsCollector c, long[] ids, int ffn, Func<int, int, bool> active)
    {
        using var scope = NewDisposeScope();
        var acts = new float[1, ids.Length, ffn];
        for (int t = 0; t < ids.Length; t++) for (int f = 0; f < ffn; f++) acts[0, t, f] = active(f, t) ? 1f : 0f;
        c.BeginBatch(tensor(ids, [1, ids.Length]), ones(1, ids.Length, ScalarType.Int64));
        c.Update(0, tensor(acts));
    }

    [Theory]
    [InlineData(DeviceSketches.DefaultStepEntries)]   // the silent neuron 1 is rewritten as it was
    [InlineData(1)]                                   // the silent neuron 1 is skipped
    public void SilentBatch_LeavesSummariesAsTheyWere_AndFullRowsTakeMoreKeys(long step)
    {
        var options = new StatsOptions { SketchCapacity = 3, NgramOrders = [1], TrackPositions = false };
        NeuronStats Run(bool onDevice, out NeuronStats afterFirst)
        {
            using var c = Collector(options, [0], ffn: 3, maxLength: 8, vocab: 10, onDevice, step);
            FeedOne(c, [2, 4, 6], 3, (_, _) => true);   // every row full: {2: 1, 4: 1, 6: 1}
            afterFirst = c.Result();
            FeedOne(c, [7, 8, 9], 3, (_, _) => false);   // no neuron fires
            var silent = c.Result();
            Assert.Equal(afterFirst.Sketch(1).Keys, silent.Sketch(1).Keys);
            Assert.Equal(afterFirst.Sketch(1).Counts, silent.Sketch(1).Counts);
            Assert.Equal(afterFirst.Sketch(1).Errors, silent.Sketch(1).Errors);
            // Neuron 0 sees {4: 2, 6: 1, 8: 1}: {2: 1, 4: 3, 6: 2, 8: 1} is 4 > K keys, the 4th largest count 1 is cut.
            // Neuron 1 stays silent. Neuron 2 sees only stored keys {4: 2, 6: 1}: 3 keys, nothing cut.
            FeedOne(c, [4, 4, 6, 8], 3, (f, t) => f == 0 || (f == 2 && t < 3));
            return c.Result();
        }
        var host = Run(onDevice: false, out _);
        var device = Run(onDevice: true, out var deviceFirst);
        Assert.Equal([(2L, 1L), (4, 1), (6, 1)], deviceFirst.TopTriggers(0, 0, 1));
        Assert.Equal([(4L, 2L), (6, 1)], device.TopTriggers(0, 0, 1));
        Assert.Equal(1, device.SketchError(0, 0, 1));
        Assert.Equal(deviceFirst.TopTriggers(0, 1, 1), device.TopTriggers(0, 1, 1));
        Assert.Equal(0, device.SketchError(0, 1, 1));
        Assert.Equal([(4L, 3L), (6, 2), (2, 1)], device.TopTriggers(0, 2, 1));
        Assert.Equal(0, device.SketchError(0, 2, 1));
        Assert.Equal([4L, 6, -1], device.Sketch(1).Keys[0..3]);   // survivors first, in key order; the freed slot unused
        Assert.Equal([2, 1, 0], device.Sketch(1).Counts[0..3]);
        AssertEqual(host, device);
    }

    public static IEnumerable<object[]> Seeds => Enumerable.Range(0, 24).Select(seed => new object[] { seed });

    /// <summary>
    /// Random configurations against the host path: orders and their subsets, K from 1 to 128, vocabularies from 2 ids
    /// (ties everywhere) to 2^17 (the largest keys), padding on either side, holes, empty rows and rows too short for some
    /// orders, densities per neuron from rare to nearly always (cuts above the histogram), steps of one neuron to all,
    /// and batch-major, layer-major and resumed updates.
    /// </summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomConfigurations_EqualTheHostPath(int seed)
    {
        var rng = new Random(seed);
        int[][] orderSets = [[1], [2], [3], [1, 3], [3, 2], [1, 2, 3]];
        bool heavy = seed % 4 == 3;   // long rows over 2–3 ids: counts far above the histogram
        var orders = orderSets[rng.Next(orderSets.Length)];
        int k = heavy ? rng.Next(1, 4) : new[] { 1, 2, 3, 128 }[rng.Next(4)];
        int vocab = heavy ? rng.Next(2, 4) : new[] { 2, 5, 30, NgramKey.MaxVocabSize }[rng.Next(4)];
        int alphabet = Math.Min(vocab, 6), ffn = heavy ? rng.Next(1, 7) : rng.Next(1, 61), maxT = heavy ? 300 : 40;
        int[] layers = rng.Next(2) == 0 ? [2] : [4, 1];
        long step = new[] { 1L, 7, 40, DeviceSketches.DefaultStepEntries }[rng.Next(4)];
        var density = Enumerable.Range(0, ffn).Select(_ => new[] { 0.03, 0.3, 0.98 }[rng.Next(3)]).ToArray();
        var options = new StatsOptions { SketchCapacity = k, NgramOrders = orders, IncludeFirstPosition = rng.Next(2) == 0, TrackPositions = rng.Next(2) == 0 };
        bool leftPad = rng.Next(2) == 0;
        int mode = rng.Next(3);   // batch-major, layer-major, or resumed half-way

        var batches = Enumerable.Range(0, rng.Next(2, 5)).Select(_ =>
        {
            int B = rng.Next(1, 5), T = rng.Next(1, maxT + 1);
            var (ids, mask, acts) = (new long[B, T], new long[B, T], layers.Select(_ => new float[B, T, ffn]).ToArray());
            for (int b = 0; b < B; b++)
            {
                int len = rng.Next(6) == 0 ? 0 : rng.Next(1, T + 1), offset = leftPad ? T - len : 0;
                bool holes = rng.Next(3) == 0;
                for (int t = 0; t < T; t++)
                {
                    bool real = t >= offset && t < offset + len && !(holes && rng.Next(5) == 0);
                    (ids[b, t], mask[b, t]) = real ? (vocab - 1 - rng.Next(alphabet), 1) : (0, 0);
                    foreach (var a in acts)
                        for (int f = 0; f < ffn; f++) a[b, t, f] = (real ? rng.NextDouble() < density[f] : rng.Next(2) == 0) ? 0.5f : 0f;
                }
            }
            return (Ids: ids, Mask: mask, Acts: acts);
        }).ToList();

        NeuronStats Feed(NeuronStatsCollector c, IEnumerable<(long[,] Ids, long[,] Mask, float[][,,] Acts)> part, bool layerMajor)
        {
            using var scope = NewDisposeScope();
            var counted = part.Select(b => (Batch: c.CountBatch(tensor(b.Ids), tensor(b.Mask)), b.Acts)).ToList();
            if (layerMajor)
                for (int l = 0; l < layers.Length; l++) foreach (var (batch, acts) in counted) c.Update(layers[l], tensor(acts[l]), batch);
            else
                foreach (var (batch, acts) in counted) for (int l = 0; l < layers.Length; l++) c.Update(layers[l], tensor(acts[l]), batch);
            return c.Result();
        }
        NeuronStats expected, actual;
        using (var host = Collector(options, layers, ffn, maxT, vocab, onDevice: false, step)) expected = Feed(host, batches, layerMajor: false);
        if (mode == 2)
        {
            using var dir = new TempDirectory();
            using (var first = Collector(options, layers, ffn, maxT, vocab, onDevice: true, step)) Feed(first, batches[..1], layerMajor: false).Save(dir.Path);
            using var resumed = NeuronStatsCollector.Resume(NeuronStats.Load(dir.Path), device: null, sketchesOnDevice: true);
            actual = Feed(resumed, batches[1..], layerMajor: false);
        }
        else
        {
            using var device = Collector(options, layers, ffn, maxT, vocab, onDevice: true, step);
            actual = Feed(device, batches, layerMajor: mode == 1);
        }
        AssertEqual(expected, actual);
    }
}
