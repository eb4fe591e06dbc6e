namespace OptNeurons.Findings;

/// <summary>
/// One layer of two captures of one model on the same tokens, e.g. in float32 and in bfloat16: how far the per-neuron
/// counts that every finding rests on moved between them.
/// </summary>
/// <param name="Model">The other capture's label.</param>
/// <param name="DeadReference">Neurons that never fired in the reference capture.</param>
/// <param name="DeadOther">Neurons that never fired in the other capture.</param>
/// <param name="DeadChanged">Neurons dead in exactly one of the two.</param>
/// <param name="CountChange">Σ |a − b| / Σ a over the layer's neurons, a and b a neuron's active tokens in the reference
/// and the other capture. Each (token, neuron) pair whose sign differs moves one count by one, so this is a lower bound
/// on the share of the reference's activations that the other capture decided differently; 0 when the counts agree.</param>
/// <param name="MaxNeuronChange">The largest |a − b| / max(a, 1) over the layer's neurons.</param>
public sealed record CountAgreementRow(string Model, int Layer, int NumLayers, double Depth, int DeadReference, int DeadOther,
                                       int DeadChanged, double CountChange, double MaxNeuronChange) : ILayerRow;

/// <summary>
/// Compares two captures of the same model and tokens neuron by neuron: what a what-if about numerics (dtype, device,
/// kernels) changes in the counts, rather than in the logits.
/// </summary>
public static class CountAgreement
{
    /// <summary>One row per layer captured by both, in layer order; the captures must have counted the same tokens.</summary>
    public static IReadOnlyList<CountAgreementRow> PerLayer(ModelStats reference, ModelStats other)
    {
        var (a, b) = (reference.Stats, other.Stats);
        if (a.FfnDim != b.FfnDim || a.TokenCount != b.TokenCount || a.SequenceCount != b.SequenceCount || a.Options.IncludeFirstPosition != b.Options.IncludeFirstPosition)
            throw new ArgumentException($"{reference.Model} ({a.SequenceCount} sequences, {a.TokenCount} tokens, ffn {a.FfnDim}) and {other.Model} " +
                                        $"({b.SequenceCount} sequences, {b.TokenCount} tokens, ffn {b.FfnDim}) did not count the same tokens of the same model.");
        return reference.Layers(firstHalfOnly: false).Intersect(other.Layers(firstHalfOnly: false)).Select(layer =>
        {
            var (x, y) = (a.ActiveCounts(layer).ToArray(), b.ActiveCounts(layer).ToArray());
            var moved = x.Zip(y, (p, q) => Math.Abs(p - q)).ToArray();
            long total = x.Sum(), movedTotal = moved.Sum();
            return new CountAgreementRow(other.Model, layer, reference.NumLayers, reference.Depth(layer),
                                         x.Count(c => c == 0), y.Count(c => c == 0), x.Zip(y).Count(p => (p.First == 0) != (p.Second == 0)),
                                         total == 0 ? (movedTotal == 0 ? 0 : double.PositiveInfinity) : movedTotal / (double)total,
                                         moved.Select((m, n) => m / (double)Math.Max(x[n], 1)).Max());
        }).ToArray();
    }
}
