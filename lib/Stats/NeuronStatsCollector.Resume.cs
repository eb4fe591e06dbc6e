using static TorchSharp.torch;

namespace OptNeurons.Stats;

public sealed partial class NeuronStatsCollector
{
    /// <summary>
    /// A collector that continues from saved statistics as if it had counted them itself: every accumulator, the
    /// n-gram summaries and the token counts are restored, so counting more batches gives exactly (byte for byte) what
    /// one uninterrupted collector would. This differs from <see cref="NeuronStats.Merge"/>, whose summary merge
    /// equals continued counting only while no summary overflows. Provenance is not part of the state: pass it to
    /// <see cref="Result"/> again.
    /// </summary>
    /// <param name="device">Where the exact accumulators live from now on; CPU if null.</param>
    public static NeuronStatsCollector Resume(NeuronStats saved, Device? device = null) => Resume(saved, device, sketchesOnDevice: null);

    /// <param name="sketchesOnDevice">As in the collector's constructor: null keeps the summaries on a CUDA device only.</param>
    internal static NeuronStatsCollector Resume(NeuronStats saved, Device? device, bool? sketchesOnDevice)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var m = saved.Manifest;
        var c = new NeuronStatsCollector(m.Options, m.Layers, m.FfnDim, m.MaxLength, m.VocabSize, device, sketchesOnDevice);
        try { c.Restore(saved); }
        catch { c.Dispose(); throw; }
        return c;
    }

    void Restore(NeuronStats saved)
    {
        int L = layers.Length;
        using (NewDisposeScope())
        using (inference_mode(false))   // the accumulators are normal tensors (see the constructor)
        {
            if (positionActiveCounts is null) activeCounts!.copy_(tensor(saved.ActiveCountsFlat).view(L, ffnDim));
            else
            {
                for (int l = 0; l < L; l++)
                {
                    using var layerScope = NewDisposeScope();   // one layer's host copy alive at a time, not all of them
                    positionActiveCounts[l].copy_(tensor(saved.PositionActiveCountsByLayer![l]).view(maxLength, ffnDim));
                }
                // The active counts are not restored but derived from these (ActiveCounts): they must agree.
                if (!TensorArrays.ToArray<long>(ActiveCounts().cpu()).AsSpan().SequenceEqual(saved.ActiveCountsFlat))
                    throw new InvalidDataException("The saved active counts differ from the sum of the saved per-position counts; the statistics are damaged.");
            }
        }
        saved.PositionTokenCountsArray.CopyTo(positionTokenCounts, 0);
        for (int o = 0; o < options.NgramOrders.Count; o++)
        {
            int n = options.NgramOrders[o];
            if (deviceSketches.Length > 0) deviceSketches[o].Load(saved.Sketch(n));
            else sketches[o] = saved.Sketch(n).Clone();
            var table = saved.OccurrenceTable(n);
            if (n == 1) table.Dense!.CopyTo(unigrams, 0);
            else for (int i = 0; i < table.Keys.Length; i++) sparse[n - 1][table.Keys[i]] = table.Counts[i];
        }
        (tokenCount, sequenceCount) = (saved.TokenCount, saved.SequenceCount);
    }
}
