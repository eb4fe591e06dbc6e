using Microsoft.Data.Analysis;
using OptNeurons.Stats;

namespace OptNeurons.Findings;

/// <summary>Per-layer counts from captured statistics: the first table every notebook can show.</summary>
public static class LayerSummary
{
    /// <summary>Per captured layer, the neurons that never fired (&gt; 0) on any counted token.</summary>
    public static long[] DeadCounts(NeuronStats stats) =>
        stats.Layers.Select(l => (long)Count(stats.ActiveCounts(l), c => c == 0)).ToArray();

    /// <summary><see cref="DeadCounts"/> as a percentage of the layer's neurons.</summary>
    public static double[] DeadPercent(NeuronStats stats) =>
        DeadCounts(stats).Select(d => 100.0 * d / stats.FfnDim).ToArray();

    /// <summary>One row per layer: neurons, dead neurons, dead %, and the mean and max firing rate (active tokens / tokens).</summary>
    public static DataFrame Table(NeuronStats stats)
    {
        var dead = DeadCounts(stats);
        var rates = stats.Layers.Select(l => FiringRates(stats, l)).ToArray();
        return new DataFrame(
            new Int32DataFrameColumn("layer", stats.Layers),
            new Int32DataFrameColumn("neurons", stats.Layers.Select(_ => stats.FfnDim)),
            new Int64DataFrameColumn("dead", dead),
            new DoubleDataFrameColumn("dead %", dead.Select(d => 100.0 * d / stats.FfnDim)),
            new DoubleDataFrameColumn("mean firing rate", rates.Select(r => r.Average())),
            new DoubleDataFrameColumn("max firing rate", rates.Select(r => r.Max())));
    }

    /// <summary>For each neuron of <paramref name="layer"/>: the fraction of counted tokens on which it fired.</summary>
    public static double[] FiringRates(NeuronStats stats, int layer)
    {
        var counts = stats.ActiveCounts(layer);
        var rates = new double[counts.Length];
        for (int i = 0; i < counts.Length; i++) rates[i] = stats.TokenCount == 0 ? 0 : counts[i] / (double)stats.TokenCount;
        return rates;
    }

    static int Count(ReadOnlySpan<long> values, Func<long, bool> predicate)
    {
        int n = 0;
        foreach (var v in values) if (predicate(v)) n++;
        return n;
    }
}
