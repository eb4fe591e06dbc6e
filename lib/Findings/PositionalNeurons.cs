namespace OptNeurons.Findings;

/// <summary>A neuron whose firing depends on position: I(act, pos) above the threshold.</summary>
/// <param name="Frequency">fr: its activation frequency over all used positions.</param>
public sealed record PositionalNeuron(string Model, int Layer, int NumLayers, double Depth, int Neuron,
                                      double MutualInformation, double Frequency, PatternType Type, bool Strong) : ILayerRow;

/// <summary>Chart labels of the pattern types, as <see cref="Plots.HouseStyle"/> colours them.</summary>
public static class PatternLabels
{
    /// <summary>"oscillatory", "both extremes (weak)", …: the type, and "(weak)" unless strong.</summary>
    public static string Of(PatternType type, bool strong) => type switch
    {
        PatternType.Oscillatory => "oscillatory",
        PatternType.BothExtremes => "both extremes",
        PatternType.OneExtreme => "one extreme",
        PatternType.Other => "other pattern",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    } + (strong ? "" : " (weak)");
}

/// <summary>How many positional neurons of one layer have one type and strength (Fig. 8's circles, long format).</summary>
public sealed record PositionalLayerRow(string Model, int Layer, int NumLayers, double Depth, PatternType Type, bool Strong, int Neurons) : ILayerRow;

/// <summary>A neuron's activation frequency at each used position (positions with no token are left out).</summary>
public sealed record PositionCurve(IReadOnlyList<int> Positions, IReadOnlyList<double> Frequencies);

/// <summary>Paper §5, Figs 7–8 and 16: neurons with high mutual information between firing and position.</summary>
public static class PositionalNeurons
{
    /// <summary>
    /// I(act, pos) = Σ_pos p(pos) Σ_act p(act|pos) log(p(act|pos) / p(act)) for every neuron of the layer, with 0·log 0 = 0,
    /// summed over used positions in increasing order and divided by ln(LogBase). p(pos) is empirical: the position's
    /// counted tokens over all counted tokens. With full-length data every position holds one token per sequence and
    /// this is exactly the paper's p(pos) = 1/T (B.1); with shorter sequences it weights each position by its data.
    /// p(act = Y | pos) = fr(pos) = active / tokens at pos, and p(act = Y) = fr = Σ p(pos) fr(pos).
    /// </summary>
    public static double[] MutualInformation(ModelStats model, int layer, PositionalOptions? options = null) =>
        Measure(model, layer, options ?? new()).MutualInformation;

    /// <summary>fr(pos) of one neuron over the used positions.</summary>
    public static PositionCurve Curve(ModelStats model, int layer, int neuron, PositionalOptions? options = null)
    {
        if ((uint)neuron >= (uint)model.Stats.FfnDim) throw new ArgumentOutOfRangeException(nameof(neuron), neuron, $"neuron must be in 0 … {model.Stats.FfnDim - 1}.");
        return UsedPositions.Of(model, options ?? new()).Curve(layer, neuron);
    }

    /// <summary>Every neuron of every captured layer with I(act, pos) &gt; MiThreshold, classified (Fig. 8).</summary>
    public static IReadOnlyList<PositionalNeuron> Find(ModelStats model, PositionalOptions? options = null) =>
        Find(model, model.Layers(firstHalfOnly: false), options ?? new());

    internal static IReadOnlyList<PositionalNeuron> Find(ModelStats model, IEnumerable<int> layers, PositionalOptions options)
    {
        options.Rules.Validate();
        var used = UsedPositions.Of(model, options);
        var rows = new List<PositionalNeuron>();
        foreach (int layer in layers)
        {
            var (mi, frequency) = Measure(model, layer, options);
            for (int n = 0; n < mi.Length; n++)
            {
                if (!(mi[n] > options.MiThreshold)) continue;
                var (type, strong) = PositionPatterns.Classify(used.Curve(layer, n).Frequencies, options.Rules);
                rows.Add(new PositionalNeuron(model.Model, layer, model.NumLayers, model.Depth(layer), n, mi[n], frequency[n], type, strong));
            }
        }
        return rows;
    }

    /// <summary>I(act, pos) and fr of every neuron, position-major so each position's F counts are read contiguously.</summary>
    static (double[] MutualInformation, double[] Frequency) Measure(ModelStats model, int layer, PositionalOptions options)
    {
        if (options.LogBase <= 0 || options.LogBase == 1) throw new ArgumentOutOfRangeException(nameof(options), options.LogBase, "LogBase must be positive and not 1.");
        var used = UsedPositions.Of(model, options);
        var counts = model.Stats.PositionActiveCounts(layer);
        int f = model.Stats.FfnDim;
        long total = used.Tokens.Sum();
        var active = new long[f];
        foreach (int p in used.Positions)
            for (int n = 0; n < f; n++) active[n] += counts[p * f + n];
        var fr = active.Select(a => (double)a / total).ToArray();
        var sum = new double[f];
        for (int i = 0; i < used.Positions.Length; i++)
        {
            int p = used.Positions[i];
            double q = (double)used.Tokens[i] / total;
            for (int n = 0; n < f; n++)
            {
                double frp = (double)counts[p * f + n] / used.Tokens[i];
                sum[n] += q * (Term(frp, fr[n]) + Term(1 - frp, 1 - fr[n]));
            }
        }
        double ln = Math.Log(options.LogBase);
        // A neuron that never or always fires does not depend on position: 0, not 0·log(0/0).
        var mi = sum.Select((v, n) => active[n] == 0 || active[n] == total ? 0 : v / ln).ToArray();
        return (mi, fr);
    }

    /// <summary>Per captured layer, one row for each type × strength (zeros included), strong first.</summary>
    public static IReadOnlyList<PositionalLayerRow> PerLayer(ModelStats model, IReadOnlyList<PositionalNeuron> neurons) =>
        model.Layers(firstHalfOnly: false).SelectMany(layer => Enum.GetValues<PatternType>().SelectMany(type => new[] { true, false }.Select(strong =>
            new PositionalLayerRow(model.Model, layer, model.NumLayers, model.Depth(layer), type, strong,
                                   neurons.Count(p => p.Layer == layer && p.Type == type && p.Strong == strong))))).ToArray();

    static double Term(double p, double q) => p == 0 ? 0 : p * Math.Log(p / q);
}

/// <summary>The positions an analysis uses (≥ the first used, holding at least one token) and their token counts.</summary>
internal sealed record UsedPositions(ModelStats Model, int[] Positions, long[] Tokens)
{
    public static UsedPositions Of(ModelStats model, PositionalOptions options)
    {
        var s = model.Stats;
        if (!s.Options.TrackPositions) throw new InvalidOperationException("Positional analyses need per-position counts; these statistics were captured with TrackPositions = false.");
        int first = CountedPositions.FirstUsed(s, options.ExcludeFirstPosition);
        var positions = Enumerable.Range(first, Math.Max(0, s.MaxLength - first)).Where(p => s.PositionTokenCounts[p] > 0).ToArray();
        return new UsedPositions(model, positions, positions.Select(p => s.PositionTokenCounts[p]).ToArray());
    }

    public PositionCurve Curve(int layer, int neuron)
    {
        var counts = Model.Stats.PositionActiveCounts(layer);
        int f = Model.Stats.FfnDim;
        var frequencies = new double[Positions.Length];
        for (int i = 0; i < Positions.Length; i++) frequencies[i] = (double)counts[Positions[i] * f + neuron] / Tokens[i];
        return new PositionCurve(Positions, frequencies);
    }
}
