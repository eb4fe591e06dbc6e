namespace OptNeurons.Stats;

/// <summary>
/// A CPU snapshot of streamed neuron statistics. Arrays indexed [L, …] follow <see cref="Layers"/>; methods take the
/// model's layer number. Exact: token and sequence counts, active counts per neuron (and per position), n-gram
/// occurrences. Approximate: per-neuron trigger counts (<see cref="TopTriggers"/>), which undercount by at most
/// <see cref="SketchError"/> and are exact where it is 0.
/// </summary>
public sealed partial class NeuronStats
{
    readonly long[] activeCounts;            // [L·F]
    readonly int[][]? positionActiveCounts;  // per layer [T·F], row-major (position, neuron)
    readonly long[] positionTokenCounts;     // [T]
    readonly OccurrenceTable[] occurrences;  // one per order in Options.NgramOrders
    readonly NgramSketch[] sketches;         // one per order in Options.NgramOrders
    readonly Dictionary<int, int> layerIndex;

    internal NeuronStats(StatsManifest manifest, long[] activeCounts, int[][]? positionActiveCounts, long[] positionTokenCounts,
                         OccurrenceTable[] occurrences, NgramSketch[] sketches)
    {
        Manifest = manifest;
        (this.activeCounts, this.positionActiveCounts, this.positionTokenCounts) = (activeCounts, positionActiveCounts, positionTokenCounts);
        (this.occurrences, this.sketches) = (occurrences, sketches);
        layerIndex = manifest.Layers.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
    }

    public StatsManifest Manifest { get; }
    public IReadOnlyList<int> Layers => Manifest.Layers;
    public int FfnDim => Manifest.FfnDim;
    public int MaxLength => Manifest.MaxLength;
    public StatsOptions Options => Manifest.Options;
    /// <summary>Counted tokens (pads never; position 0 only with <see cref="StatsOptions.IncludeFirstPosition"/>).</summary>
    public long TokenCount => Manifest.TokenCount;
    /// <summary>Input rows holding at least one real (mask 1) token.</summary>
    public long SequenceCount => Manifest.SequenceCount;

    /// <summary>Row of a model layer number in the [L, …] arrays.</summary>
    public int LayerIndex(int layer) => layerIndex.TryGetValue(layer, out int i) ? i
        : throw new ArgumentException($"Layer {layer} was not captured; these statistics hold layers [{string.Join(", ", Layers)}].");

    /// <summary>For each neuron of <paramref name="layer"/>, the number of counted tokens where it was active (&gt; 0).</summary>
    public ReadOnlySpan<long> ActiveCounts(int layer) => activeCounts.AsSpan(LayerIndex(layer) * FfnDim, FfnDim);

    /// <summary>Counted tokens at each position 0 … T-1.</summary>
    public ReadOnlySpan<long> PositionTokenCounts => positionTokenCounts;

    /// <summary>[T·F] counts, row-major (position, neuron): tokens at that position where the neuron was active.</summary>
    public ReadOnlySpan<int> PositionActiveCounts(int layer) => (positionActiveCounts ?? throw PositionsOff())[LayerIndex(layer)];

    /// <summary>One neuron's active count at each position 0 … T-1 (divide by <see cref="PositionTokenCounts"/> for fr(pos)).</summary>
    public int[] PositionActiveCurve(int layer, int neuron)
    {
        var counts = PositionActiveCounts(layer);
        CheckNeuron(neuron);
        var curve = new int[MaxLength];
        for (int p = 0; p < MaxLength; p++) curve[p] = counts[p * FfnDim + neuron];
        return curve;
    }

    /// <summary>
    /// The n-grams stored in the neuron's summary with their (lower-bound) trigger counts, by count descending then key
    /// ascending. Each count undercounts the true one by at most <see cref="SketchError"/>; exact when that is 0.
    /// </summary>
    public IReadOnlyList<(long Key, long Count)> TopTriggers(int layer, int neuron, int n)
    {
        var (sketch, row) = Row(layer, neuron, n);
        var keys = sketch.RowKeys(row);
        var counts = sketch.RowCounts(row);
        var list = new List<(long Key, long Count)>(keys.Length);
        for (int i = 0; i < keys.Length; i++) list.Add((keys[i], counts[i]));
        list.Sort((a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count) : a.Key.CompareTo(b.Key));
        return list;
    }

    /// <summary>Upper bound on how much any count in the neuron's n-gram summary undercounts, and on any n-gram left out.</summary>
    public long SketchError(int layer, int neuron, int n)
    {
        var (sketch, row) = Row(layer, neuron, n);
        return sketch.Errors[row];
    }

    /// <summary>
    /// Neurons, over all captured layers, whose summary of order <paramref name="n"/> has a nonzero error: they saw more
    /// distinct n-grams than its K entries, so their counts are lower bounds, and summaries merged from shards may
    /// differ from a single pass. 0 means every summary of that order is exact.
    /// </summary>
    public int OverflowedSummaries(int n) => Sketch(n).Errors.Count(error => error > 0);

    /// <summary>Exact number of times n-gram <paramref name="key"/> (<see cref="NgramKey.Pack"/>) occurred among counted tokens.</summary>
    public long Occurrences(int n, long key) => occurrences[Order(n)][key];

    /// <summary>Every n-gram of order <paramref name="n"/> that occurred, by increasing key, with its exact count.</summary>
    public IEnumerable<(long Key, long Count)> OccurrenceEntries(int n) => occurrences[Order(n)].Entries();

    internal long[] ActiveCountsFlat => activeCounts;
    internal int[][]? PositionActiveCountsByLayer => positionActiveCounts;
    internal long[] PositionTokenCountsArray => positionTokenCounts;
    internal OccurrenceTable OccurrenceTable(int n) => occurrences[Order(n)];
    internal NgramSketch Sketch(int n) => sketches[Order(n)];

    int Order(int n)
    {
        for (int o = 0; o < Options.NgramOrders.Count; o++) if (Options.NgramOrders[o] == n) return o;
        throw new ArgumentException($"n-gram order {n} was not tracked; NgramOrders = [{string.Join(", ", Options.NgramOrders)}].");
    }

    (NgramSketch, int) Row(int layer, int neuron, int n)
    {
        int li = LayerIndex(layer);
        CheckNeuron(neuron);
        return (sketches[Order(n)], li * FfnDim + neuron);
    }

    void CheckNeuron(int neuron)
    {
        if ((uint)neuron >= (uint)FfnDim) throw new ArgumentOutOfRangeException(nameof(neuron), $"Neuron {neuron} is outside [0, {FfnDim}).");
    }

    static InvalidOperationException PositionsOff() =>
        new("Per-position counts were not tracked (StatsOptions.TrackPositions was false).");
}
