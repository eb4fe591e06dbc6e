using OptNeurons.Findings;
using OptNeurons.Stats;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Findings;

/// <summary>Whether neuron <paramref name="neuron"/> of <paramref name="layer"/> fires at one position of one sequence.</summary>
internal delegate bool Fires(int layer, int neuron, int sequence, int position, long[] ids);

/// <summary>
/// Statistics of hand-written activations: each sequence's ids go through the real collector with activation 1 where
/// <see cref="Fires"/> says so and 0 elsewhere, so the analyses see exactly what a capture would produce.
/// </summary>
internal static class HandStats
{
    public const int Bos = 2;

    public static NeuronStats Capture(IReadOnlyList<long[]> sequences, int ffn, Fires fires, StatsOptions? options = null,
                                      int layers = 1, int? maxLength = null, int vocab = 64, int batchSize = 64)
    {
        int T = maxLength ?? sequences.Max(s => s.Length);
        var layerIds = Enumerable.Range(0, layers).ToArray();
        using var collector = new NeuronStatsCollector(options ?? new StatsOptions(), layerIds, ffn, T, vocab);
        for (int start = 0; start < sequences.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = sequences.Skip(start).Take(batchSize).ToArray();
            int B = batch.Length, width = batch.Max(s => s.Length);
            var ids = new long[B, width];
            var mask = new long[B, width];
            var acts = layerIds.Select(_ => new float[B, width, ffn]).ToArray();
            for (int b = 0; b < B; b++)
                for (int t = 0; t < batch[b].Length; t++)
                {
                    (ids[b, t], mask[b, t]) = (batch[b][t], 1);
                    foreach (int l in layerIds)
                        for (int f = 0; f < ffn; f++)
                            acts[l][b, t, f] = fires(l, f, start + b, t, batch[b]) ? 1f : 0f;
                }
            collector.BeginBatch(tensor(ids), tensor(mask));
            foreach (int l in layerIds) collector.Update(l, tensor(acts[l]));
        }
        return collector.Result();
    }

    public static ModelStats Model(NeuronStats stats, int numLayers = 2) => new("hand", numLayers, stats);

    /// <summary>
    /// Token occurrences: 10 ×12, 11 ×12, 12 ×20, 13 ×3, 14 ×10, 16 ×14, 17 ×9, trigram (10 11 12) ×12, and BOS at
    /// position 0 of each of the 23 sequences only. Sequences 0–11: BOS 10 11 12 16; 12–19: BOS 12 14 17;
    /// 20–21: BOS 14 13 16; 22: BOS 13 17.
    /// </summary>
    public static IReadOnlyList<long[]> DetectorCorpus()
    {
        var seqs = new List<long[]>();
        for (int i = 0; i < 12; i++) seqs.Add([Bos, 10, 11, 12, 16]);
        for (int i = 0; i < 8; i++) seqs.Add([Bos, 12, 14, 17]);
        for (int i = 0; i < 2; i++) seqs.Add([Bos, 14, 13, 16]);
        seqs.Add([Bos, 13, 17]);
        return seqs;
    }
}
