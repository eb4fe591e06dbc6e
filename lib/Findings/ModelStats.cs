using OptNeurons.Stats;

namespace OptNeurons.Findings;

/// <summary>
/// One model's saved statistics plus what they do not record: a short label for tables ("125m") and the model's
/// total number of layers L, which fixes "first half" and relative depth even when only some layers were captured.
/// </summary>
public sealed record ModelStats
{
    public ModelStats(string model, int numLayers, NeuronStats stats)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (numLayers < 1) throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "a model has at least one layer.");
        if (stats.Layers.Any(l => l >= numLayers))
            throw new ArgumentException($"{model}: the statistics hold layer {stats.Layers.Max()}, but the model has {numLayers} layers (0 … {numLayers - 1}).");
        (Model, NumLayers, Stats) = (model, numLayers, stats);
    }

    public string Model { get; }
    /// <summary>L: the model's num_hidden_layers.</summary>
    public int NumLayers { get; }
    public NeuronStats Stats { get; }

    /// <summary>Captured layers, all of them or only the first half (layer l with 2·l &lt; L, i.e. 0 … L/2 − 1).</summary>
    public IReadOnlyList<int> Layers(bool firstHalfOnly) =>
        Stats.Layers.Where(l => !firstHalfOnly || 2 * l < NumLayers).Order().ToArray();

    /// <summary>x of layer <paramref name="layer"/> in every row this model produces (<see cref="RelativeDepth.Default"/>).</summary>
    public double Depth(int layer) => RelativeDepth.Of(layer, NumLayers);
}

/// <summary>
/// Every per-layer table row: which model, which layer (0-based, as in HF and the statistics) and where that layer sits
/// in its network, so rows of several model sizes stack into one table and overlay on one x axis.
/// </summary>
public interface ILayerRow
{
    string Model { get; }
    int Layer { get; }
    int NumLayers { get; }
    /// <summary>Relative depth by <see cref="RelativeDepth.Default"/>: layer / (L − 1), 0 for the first layer, 1 for the last.</summary>
    double Depth { get; }
}
