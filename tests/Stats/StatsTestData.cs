using OptNeurons.Stats;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Stats;

/// <summary>One unpadded sequence: its token ids and, per captured layer, its activations [len, F].</summary>
internal sealed record Sequence(long[] Ids, float[][][] Activations);

internal static class StatsTestData
{
    public static Tensor Ids(long[,] ids) => tensor(ids);
    public static Tensor Mask(long[,] mask) => tensor(mask);

    /// <summary>Random sequences with values ≤ 0 about (1 - density) of the time; fixed seed.</summary>
    public static List<Sequence> RandomSequences(int seed, int count, int minLength, int maxLength, int vocab, int layers, int ffn, double density)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            int len = rng.Next(minLength, maxLength + 1);
            var ids = Enumerable.Range(0, len).Select(_ => (long)rng.Next(vocab)).ToArray();
            var acts = Enumerable.Range(0, layers).Select(_ => Enumerable.Range(0, len).Select(_ =>
                Enumerable.Range(0, ffn).Select(_ => rng.NextDouble() < density ? (float)rng.NextDouble() + 0.01f : 0f).ToArray()).ToArray()).ToArray();
            return new Sequence(ids, acts);
        }).ToList();
    }

    /// <summary>Feeds sequences in batches of <paramref name="batchSize"/>, padded on the left or right to the batch's longest.</summary>
    public static void Feed(NeuronStatsCollector c, IReadOnlyList<Sequence> seqs, int batchSize, bool leftPad, IReadOnlyList<int> layers)
    {
        for (int start = 0; start < seqs.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = seqs.Skip(start).Take(batchSize).ToList();
            int B = batch.Count, T = batch.Max(s => s.Ids.Length), F = batch[0].Activations[0][0].Length;
            var ids = new long[B, T];
            var mask = new long[B, T];
            var acts = layers.Select(_ => new float[B, T, F]).ToArray();
            for (int b = 0; b < B; b++)
            {
                var s = batch[b];
                int offset = leftPad ? T - s.Ids.Length : 0;
                for (int t = 0; t < T; t++)
                {
                    ids[b, t] = 1;   // OPT's pad id; pads also get "active" values, which must never count
                    for (int l = 0; l < layers.Count; l++) for (int f = 0; f < F; f++) acts[l][b, t, f] = 5f;
                }
                for (int t = 0; t < s.Ids.Length; t++)
                {
                    ids[b, offset + t] = s.Ids[t];
                    mask[b, offset + t] = 1;
                    for (int l = 0; l < layers.Count; l++) for (int f = 0; f < F; f++) acts[l][b, offset + t, f] = s.Activations[l][t][f];
                }
            }
            c.BeginBatch(tensor(ids), tensor(mask));
            for (int l = 0; l < layers.Count; l++) c.Update(layers[l], tensor(acts[l]));
        }
    }

    /// <summary>Every array of two statistics equal (the manifests too, unless <paramref name="manifest"/> is false).</summary>
    public static void AssertEqual(NeuronStats a, NeuronStats b, bool manifest = true)
    {
        if (manifest) Assert.Equal(a.Manifest, b.Manifest);
        Assert.Equal(a.TokenCount, b.TokenCount);
        Assert.Equal(a.SequenceCount, b.SequenceCount);
        Assert.Equal(a.ActiveCountsFlat, b.ActiveCountsFlat);
        Assert.Equal(a.PositionTokenCountsArray, b.PositionTokenCountsArray);
        Assert.Equal(a.PositionActiveCountsByLayer is null, b.PositionActiveCountsByLayer is null);
        if (a.PositionActiveCountsByLayer is { } pa)
            for (int l = 0; l < pa.Length; l++) Assert.Equal(pa[l], b.PositionActiveCountsByLayer![l]);
        foreach (int n in a.Options.NgramOrders)
        {
            var (sa, sb) = (a.Sketch(n), b.Sketch(n));
            Assert.Equal(sa.Keys, sb.Keys);
            Assert.Equal(sa.Counts, sb.Counts);
            Assert.Equal(sa.Errors, sb.Errors);
            Assert.Equal(sa.Lengths, sb.Lengths);
            Assert.Equal(a.OccurrenceEntries(n), b.OccurrenceEntries(n));
        }
    }
}
