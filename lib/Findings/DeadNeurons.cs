namespace OptNeurons.Findings;

/// <summary>Options of <see cref="DeadNeurons"/>.</summary>
public sealed record DeadNeuronOptions
{
    /// <summary>
    /// Leave out position 0 (BOS). Default false: the paper defines dead as "never activate on our diverse data" and
    /// excludes BOS only from its n-gram computations (footnote 8). Excluding it turns neurons that fire only on BOS
    /// dead, and removes one token per sequence from every frequency's denominator. On statistics captured without
    /// position 0 it changes nothing.
    /// </summary>
    public bool ExcludeFirstPosition { get; init; }
}

/// <summary>One layer of Figure 1: how many neurons never fired, and how often the others fire.</summary>
/// <param name="Tokens">Counted tokens N, the denominator of every frequency.</param>
/// <param name="Dead">Neurons with no active token (value &gt; 0) among the N tokens.</param>
/// <param name="DeadPercent">100 · Dead / F (Fig. 1a).</param>
/// <param name="MeanAliveFrequency">Σ over alive neurons of active tokens, divided by (Alive · N): the mean over alive
/// neurons of their activation frequency (Fig. 1b); NaN when no neuron is alive.</param>
/// <param name="FirstPositionCounted">Whether position 0 (BOS) is among the N tokens.</param>
public sealed record DeadNeuronRow(string Model, int Layer, int NumLayers, double Depth, int FfnDim, long Tokens,
                                   int Dead, double DeadPercent, int Alive, double MeanAliveFrequency, bool FirstPositionCounted) : ILayerRow;

/// <summary>Paper §3, Figure 1: dead neurons per layer and the activation frequency of the alive ones.</summary>
public static class DeadNeurons
{
    /// <summary>One row per captured layer, in layer order.</summary>
    public static IReadOnlyList<DeadNeuronRow> PerLayer(ModelStats model, DeadNeuronOptions? options = null)
    {
        options ??= new();
        var s = model.Stats;
        int from = CountedPositions.FirstUsed(s, options.ExcludeFirstPosition);
        long tokens = CountedPositions.TokenCount(s, from);
        return model.Layers(firstHalfOnly: false).Select(layer =>
        {
            var active = CountedPositions.ActiveCounts(s, layer, from, "Excluding position 0 from dead-neuron counts");
            int alive = active.Count(c => c > 0);
            long aliveActive = active.Sum();   // dead neurons add 0
            double mean = alive == 0 ? double.NaN : aliveActive / ((double)alive * tokens);
            return new DeadNeuronRow(model.Model, layer, model.NumLayers, model.Depth(layer), s.FfnDim, tokens,
                                     s.FfnDim - alive, 100.0 * (s.FfnDim - alive) / s.FfnDim, alive, mean, from == 0);
        }).ToArray();
    }

    /// <summary>The dead neurons of one layer, ascending.</summary>
    public static IReadOnlyList<int> Ids(ModelStats model, int layer, DeadNeuronOptions? options = null)
    {
        var s = model.Stats;
        int from = CountedPositions.FirstUsed(s, (options ?? new()).ExcludeFirstPosition);
        var active = CountedPositions.ActiveCounts(s, layer, from, "Excluding position 0 from dead-neuron counts");
        return Enumerable.Range(0, active.Length).Where(n => active[n] == 0).ToArray();
    }
}
