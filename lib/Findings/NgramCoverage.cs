namespace OptNeurons.Findings;

/// <summary>A range of coverage numbers, Min … Max inclusive; Max null means no upper end.</summary>
public sealed record CoverageBin(string Label, int Min, int? Max)
{
    /// <summary>Label of the row counting neurons whose coverage bounds straddle two or more bins.</summary>
    public const string Undetermined = "undetermined";

    /// <summary>
    /// 1–5, 6–10, 11–50, 51–100, &gt;100. The paper gives no edges for Figs 2, 12 and 13; its text names "as few as 1 to
    /// 5 tokens", and 1–5 and 1–50 are its detector candidate ranges (§4.2, A.2), so both are bin boundaries.
    /// </summary>
    public static IReadOnlyList<CoverageBin> Default { get; } =
        [new("1-5", 1, 5), new("6-10", 6, 10), new("11-50", 11, 50), new("51-100", 51, 100), new(">100", 101, null)];

    /// <summary>Whether every value in [lower, upper] (upper null: unbounded) lies in this bin.</summary>
    public bool Holds(int lower, int? upper) => lower >= Min && (Max is null || (upper is int u && u <= Max));
}

/// <summary>Options of <see cref="NgramCoverage"/>.</summary>
public sealed record CoverageOptions
{
    /// <summary>"the number of n-grams that cover at least 95% of the neuron's activations" (§4.1).</summary>
    public int SharePercent { get; init; } = 95;
    /// <summary>Figs 2, 12, 13: "First half of the network, alive neurons only".</summary>
    public bool FirstHalfOnly { get; init; } = true;
    public TriggerCounting Counting { get; init; } = new();
    public IReadOnlyList<CoverageBin> Bins { get; init; } = CoverageBin.Default;
}

/// <summary>One neuron's coverage number as bounds (equal when known exactly).</summary>
/// <param name="Activations">Its activations that have an n-gram, the 100% of the share.</param>
/// <param name="Upper">Null when the sketch's stored counts never reach the share: the coverage is only known to be ≥ Lower.</param>
/// <param name="SketchError">The Misra–Gries error bound; 0 means every count is exact and Lower = Upper.</param>
public sealed record NeuronCoverage(string Model, int Layer, int NumLayers, double Depth, int Neuron, int N,
                                    long Activations, int Lower, int? Upper, long SketchError) : ILayerRow
{
    public bool Exact => Upper == Lower;
}

/// <summary>Neurons of one layer whose coverage lies in one bin (or, for <see cref="CoverageBin.Undetermined"/>, in none for sure).</summary>
/// <param name="Percent">100 · Neurons / (neurons with a coverage number in the layer).</param>
public sealed record CoverageBinRow(string Model, int Layer, int NumLayers, double Depth, int N, string Bin, int Neurons, double Percent) : ILayerRow;

/// <summary>How exactly one layer's coverage numbers are known.</summary>
/// <param name="Covered">Neurons with at least one activation that has an n-gram (the neurons binned).</param>
/// <param name="Silent">The others: dead, or active only where no n-gram is counted (e.g. only on BOS).</param>
/// <param name="SketchExact">Covered neurons whose summary is exact (error 0).</param>
/// <param name="Determined">Covered neurons whose bounds coincide (includes SketchExact).</param>
/// <param name="Binned">Covered neurons whose bounds fall within one bin.</param>
public sealed record CoverageLayerRow(string Model, int Layer, int NumLayers, double Depth, int N,
                                      int Covered, int Silent, int SketchExact, int Determined, int Binned) : ILayerRow;

/// <summary>Paper §4.1 and Figs 2, 12, 13: how many n-grams it takes to cover 95% of a neuron's activations.</summary>
public static class NgramCoverage
{
    /// <summary>Every neuron with at least one activation that has an n-gram, layer by layer.</summary>
    public static IReadOnlyList<NeuronCoverage> PerNeuron(ModelStats model, int n, CoverageOptions? options = null)
    {
        options ??= new();
        if (options.SharePercent is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(options), options.SharePercent, "SharePercent must be in 1 … 100.");
        var s = model.Stats;
        var triggers = NgramTriggers.For(s, n, options.Counting);
        var rows = new List<NeuronCoverage>();
        foreach (int layer in model.Layers(options.FirstHalfOnly))
        {
            var activations = triggers.Activations(layer);
            for (int neuron = 0; neuron < s.FfnDim; neuron++)
            {
                if (activations[neuron] == 0) continue;
                var t = triggers.Neuron(layer, neuron, activations[neuron]);
                var (lower, upper) = CoverageBounds.Of(t, options.SharePercent);
                rows.Add(new NeuronCoverage(model.Model, layer, model.NumLayers, model.Depth(layer), neuron, n, t.Activations, lower, upper, t.Error));
            }
        }
        return rows;
    }

    /// <summary>Per layer, one row per bin and one <see cref="CoverageBin.Undetermined"/> row (long format, for stacked bars).</summary>
    public static IReadOnlyList<CoverageBinRow> Binned(IReadOnlyList<NeuronCoverage> neurons, IReadOnlyList<CoverageBin>? bins = null)
    {
        bins ??= CoverageBin.Default;
        return neurons.GroupBy(c => (c.Model, c.Layer)).SelectMany(g =>
        {
            var first = g.First();
            int total = g.Count();
            var counts = bins.Select(b => (b.Label, Count: g.Count(c => b.Holds(c.Lower, c.Upper)))).ToList();
            counts.Add((CoverageBin.Undetermined, total - counts.Sum(c => c.Count)));
            return counts.Select(c => new CoverageBinRow(first.Model, first.Layer, first.NumLayers, first.Depth, first.N, c.Label, c.Count, 100.0 * c.Count / total));
        }).ToArray();
    }

    /// <summary>
    /// <see cref="Binned"/> rows of one model pivoted for a stacked chart: bin label → the bin's percent in layers 0, 1,
    /// … up to the last layer with rows (index = layer number), bins in their order (undetermined last). A layer without
    /// alive neurons has no rows and gets 0 in every bin, so every later layer keeps its own place on the axis.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<double>> PercentByBin(IReadOnlyList<CoverageBinRow> rows)
    {
        int layers = rows.Count == 0 ? 0 : rows.Max(r => r.Layer) + 1;
        var result = new Dictionary<string, IReadOnlyList<double>>();   // keeps insertion order while nothing is removed
        foreach (var bin in rows.Select(r => r.Bin).Distinct())
            result[bin] = Enumerable.Range(0, layers).Select(l => rows.Where(r => r.Layer == l && r.Bin == bin).Sum(r => r.Percent)).ToArray();
        return result;
    }

    /// <summary>Per analysed layer: how many neurons have a coverage number and how exactly it is known.</summary>
    public static IReadOnlyList<CoverageLayerRow> Summary(ModelStats model, int n, CoverageOptions? options = null)
    {
        options ??= new();
        var neurons = PerNeuron(model, n, options).ToLookup(c => c.Layer);
        return model.Layers(options.FirstHalfOnly).Select(layer =>
        {
            var g = neurons[layer].ToArray();
            return new CoverageLayerRow(model.Model, layer, model.NumLayers, model.Depth(layer), n, g.Length, model.Stats.FfnDim - g.Length,
                g.Count(c => c.SketchError == 0), g.Count(c => c.Exact), g.Count(c => options.Bins.Any(b => b.Holds(c.Lower, c.Upper))));
        }).ToArray();
    }
}
