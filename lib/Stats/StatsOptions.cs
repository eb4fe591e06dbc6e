namespace OptNeurons.Stats;

/// <summary>
/// What <see cref="NeuronStatsCollector"/> records. Every choice that changes a number is here, and the whole record is
/// saved in the manifest, so two statistics files can be merged only when they were counted the same way.
/// </summary>
public sealed record StatsOptions
{
    /// <summary>
    /// Count the token at position 0 (OPT's tokenizer puts BOS &lt;/s&gt; there). The paper excludes BOS from its
    /// n-gram analyses (footnote 8) but not from dead-neuron counts, so the default keeps it and analyses that need it
    /// excluded run with <c>false</c>.
    /// </summary>
    public bool IncludeFirstPosition { get; init; } = true;

    /// <summary>Keep per-position activation counts (Section 5, positional neurons): 4·T bytes per neuron on the device.</summary>
    public bool TrackPositions { get; init; } = true;

    /// <summary>N-gram orders with trigger sketches and occurrence counts, each in 1..3; empty turns n-gram tracking off.</summary>
    public IReadOnlyList<int> NgramOrders { get; init; } = [1, 2, 3];

    /// <summary>
    /// Entries per neuron and n-gram order in the Misra–Gries summary (K): 12·K + 12 bytes each, in device memory when
    /// the collector runs on a CUDA device and in host memory otherwise.
    /// </summary>
    public int SketchCapacity { get; init; } = 128;

    /// <summary>Refuses orders outside 1..3, repeated orders and a capacity below 1; returns the orders sorted.</summary>
    public StatsOptions Validate()
    {
        if (NgramOrders.Any(n => n is < 1 or > 3))
            throw new ArgumentException($"NgramOrders [{string.Join(", ", NgramOrders)}]: every order must be 1, 2 or 3.");
        if (NgramOrders.Distinct().Count() != NgramOrders.Count)
            throw new ArgumentException($"NgramOrders [{string.Join(", ", NgramOrders)}]: an order is repeated.");
        if (SketchCapacity < 1)
            throw new ArgumentException($"SketchCapacity must be at least 1, got {SketchCapacity}.");
        return this with { NgramOrders = NgramOrders.Order().ToArray() };
    }

    // Records compare lists by reference; options are compared by value when merging and after loading.
    public bool Equals(StatsOptions? other) =>
        other is not null && IncludeFirstPosition == other.IncludeFirstPosition && TrackPositions == other.TrackPositions &&
        SketchCapacity == other.SketchCapacity && NgramOrders.SequenceEqual(other.NgramOrders);

    public override int GetHashCode() =>
        HashCode.Combine(IncludeFirstPosition, TrackPositions, SketchCapacity, string.Join(",", NgramOrders));

    // The generated ToString would print the list as "System.Int32[]".
    bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append(Describe());
        return true;
    }

    /// <summary>One-line description used in error messages ("IncludeFirstPosition=True, …").</summary>
    public string Describe() =>
        $"IncludeFirstPosition={IncludeFirstPosition}, TrackPositions={TrackPositions}, " +
        $"NgramOrders=[{string.Join(", ", NgramOrders)}], SketchCapacity={SketchCapacity}";
}
