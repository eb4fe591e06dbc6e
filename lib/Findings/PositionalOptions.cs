namespace OptNeurons.Findings;

/// <summary>Fig. 7's four kinds of positional pattern (colours in Figs 8, 10, 11, 16).</summary>
public enum PatternType
{
    /// <summary>Purple: alternates between ranges where the neuron never fires and ranges where it always fires.</summary>
    Oscillatory,
    /// <summary>Red: reaches both 0 and 1 on ranges, but does not oscillate ("less than" / "greater than" a position).</summary>
    BothExtremes,
    /// <summary>Green: reaches only one of 0 and 1 on a range.</summary>
    OneExtreme,
    /// <summary>Yellow: depends on position, but stays 0 or 1 on no range.</summary>
    Other,
}

/// <summary>
/// Numeric rules for Fig. 7's types, which the paper describes only in words. A curve is fr(pos) over the used positions
/// in order. "Reaches 0 (1)" at tolerance ε means fr ≤ ε (fr ≥ 1 − ε) on a run of at least
/// max(<see cref="MinRunPositions"/>, ⌈<see cref="MinRunShare"/> · positions⌉) consecutive positions. Runs in position
/// order, consecutive runs of the same extreme merged, are "visits"; they alternate between 0 and 1.
/// </summary>
public sealed record PatternRules
{
    /// <summary>Strong: "activation frequency equals 0 (or 1)"; 0.01 allows one miss in a hundred tokens at a position.</summary>
    public double StrongTolerance { get; init; } = 0.01;

    /// <summary>Weak: "close, but not equals, to 0 (or 1)"; 0.2 lets the weak oscillatory example of Fig. 7 (peaks between
    /// about 0.1 and 0.9) reach both extremes. Also the tolerance that decides the type.</summary>
    public double WeakTolerance { get; init; } = 0.2;

    /// <summary>Shortest run, as a share of the positions: 1% is about 20 of 2048 positions, a third of the narrowest band
    /// (60–100 positions) of the strongly oscillatory neurons of Fig. 9.</summary>
    public double MinRunShare { get; init; } = 0.01;

    /// <summary>Shortest run in positions whatever the share: one position is a point, not a range.</summary>
    public int MinRunPositions { get; init; } = 2;

    /// <summary>Oscillatory: at least 4 visits, i.e. at least two ranges of each extreme ("position falls into a certain
    /// set"); 2–3 visits is a step or a plateau ("less than or greater than some value"), which is red.</summary>
    public int MinOscillationVisits { get; init; } = 4;

    /// <summary>
    /// Strong "other" (a "thin" graph): roughness ≤ 0.05, where roughness is the root mean square over interior positions
    /// of fr(pos) − (fr(pos−1) + fr(pos+1)) / 2, divided by the curve's range max − min: how far each position is from
    /// what its neighbours predict.
    /// </summary>
    public double SmoothnessTolerance { get; init; } = 0.05;

    internal void Validate()
    {
        if (StrongTolerance is < 0 or >= 0.5 || WeakTolerance is < 0 or >= 0.5 || StrongTolerance > WeakTolerance)
            throw new ArgumentException($"Tolerances must satisfy 0 ≤ StrongTolerance ({StrongTolerance}) ≤ WeakTolerance ({WeakTolerance}) < 0.5.");
        if (MinRunPositions < 1 || MinOscillationVisits < 2 || MinRunShare < 0)
            throw new ArgumentException("MinRunPositions ≥ 1, MinOscillationVisits ≥ 2 and MinRunShare ≥ 0 are required.");
    }
}

/// <summary>Options of <see cref="PositionalNeurons"/> and <see cref="OscillatoryTeams"/>.</summary>
public sealed record PositionalOptions
{
    /// <summary>"We pick neurons with I(act,pos) &gt; 0.05" (§5.1), strictly greater.</summary>
    public double MiThreshold { get; init; } = 0.05;

    /// <summary>The paper does not state the base; natural log (nats) is the default, 2 gives bits (0.05 nats ≈ 0.072 bits).</summary>
    public double LogBase { get; init; } = Math.E;

    /// <summary>Leave out position 0 (BOS). Default false: the paper's sum runs over "pos = 1 … T", every position.</summary>
    public bool ExcludeFirstPosition { get; init; }

    public PatternRules Rules { get; init; } = new();

    /// <summary>Fig. 9: a strongly oscillatory neuron's "active" positions are those with fr ≥ 0.5, the midpoint between its
    /// ranges at 0 and at 1, so that the ranges of a team meet instead of leaving the transition positions uncovered.</summary>
    public double TeamActiveFrequency { get; init; } = 0.5;
}
