namespace OptNeurons.Findings;

/// <summary>How a 0-based layer index i of an L-layer model becomes an x in [0, 1] (the paper's "relative to network depth").</summary>
public enum DepthScale
{
    /// <summary>i / (L − 1): first layer at 0, last at 1, the paper's Fig. 1a (as digitised); 0 when L = 1.</summary>
    LayerOverLast,
    /// <summary>(i + 0.5) / L: each layer at the centre of its 1/L slice.</summary>
    LayerCentre,
    /// <summary>(i + 1) / L: each layer at the end of its slice, the paper's Fig. 1b (as digitised).</summary>
    LayerEnd,
}

public static class RelativeDepth
{
    /// <summary>
    /// The scale every row's <see cref="ILayerRow.Depth"/> uses. i / (L − 1) puts the first and last layers of every
    /// model at the same x (0 and 1), so curves of 12- and 64-layer models start and end together, and its midpoint
    /// 0.5 is the paper's "first half / second half" boundary drawn as a dashed line in Fig. 1.
    /// </summary>
    public const DepthScale Default = DepthScale.LayerOverLast;

    public static double Of(int layer, int numLayers, DepthScale scale = Default)
    {
        if (numLayers < 1 || layer < 0 || layer >= numLayers)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in 0 … {numLayers - 1} (L = {numLayers}).");
        return scale switch
        {
            DepthScale.LayerOverLast => numLayers == 1 ? 0 : (double)layer / (numLayers - 1),
            DepthScale.LayerCentre => (layer + 0.5) / numLayers,
            DepthScale.LayerEnd => (layer + 1.0) / numLayers,
            _ => throw new ArgumentOutOfRangeException(nameof(scale), scale, null),
        };
    }
}

/// <summary>Stacks one analysis over several model sizes, so a single table (and chart) overlays 125m … 66b.</summary>
public static class Scaling
{
    /// <summary>The rows of <paramref name="analysis"/> for each model, models in the order given.</summary>
    public static IReadOnlyList<TRow> Stack<TRow>(IEnumerable<ModelStats> models, Func<ModelStats, IReadOnlyList<TRow>> analysis) =>
        models.SelectMany(analysis).ToArray();
}

/// <summary>
/// A per-layer curve summarised the way the paper talks about it: the mean over the first half (layer l with 2·l &lt; L,
/// as everywhere in the workbook) and over the second half, and the layer where it peaks. Unread values (null, NaN) are
/// left out of the means.
/// </summary>
public sealed record LayerHalves(double FirstHalfMean, double SecondHalfMean, double Max, int MaxLayer, int NumLayers)
{
    public double MaxDepth => RelativeDepth.Of(MaxLayer, NumLayers);

    public static LayerHalves Of(IReadOnlyList<double?> perLayer)
    {
        if (perLayer.Count == 0) throw new ArgumentException("there are no layers to summarise.", nameof(perLayer));
        int layers = perLayer.Count;
        var read = perLayer.Select((v, l) => (Value: v ?? double.NaN, Layer: l)).Where(x => !double.IsNaN(x.Value)).ToArray();
        if (read.Length == 0) throw new ArgumentException("every value is missing.", nameof(perLayer));
        double Mean(bool first) => read.Where(x => 2 * x.Layer < layers == first).Select(x => x.Value).DefaultIfEmpty(double.NaN).Average();
        var peak = read.MaxBy(x => x.Value);   // the first layer among equal maxima
        return new LayerHalves(Mean(true), Mean(false), peak.Value, peak.Layer, layers);
    }

    public static LayerHalves Of(IEnumerable<double> perLayer) => Of(perLayer.Select(v => (double?)v).ToArray());
}
