using Microsoft.Data.Analysis;

namespace OptNeurons.Findings;

/// <summary>The per-layer dead-neuron rows (<see cref="DeadNeurons.PerLayer"/>) as a table for notebooks.</summary>
public static class LayerSummary
{
    /// <summary>One row per layer: neurons, dead neurons, dead %, and the mean activation frequency of the alive ones (Fig 1).</summary>
    public static DataFrame Table(IReadOnlyList<DeadNeuronRow> rows) => new(
        new Int32DataFrameColumn("layer", rows.Select(r => r.Layer)),
        new Int32DataFrameColumn("neurons", rows.Select(r => r.FfnDim)),
        new Int32DataFrameColumn("dead", rows.Select(r => r.Dead)),
        new DoubleDataFrameColumn("dead %", rows.Select(r => r.DeadPercent)),
        new DoubleDataFrameColumn("alive: mean frequency", rows.Select(r => r.MeanAliveFrequency)));
}
