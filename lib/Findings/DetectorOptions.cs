namespace OptNeurons.Findings;

/// <summary>
/// The three-step search of §4.2 (tokens) and A.2 (trigrams). Percent thresholds are compared in integers
/// (100 · part ≥ percent · whole), so equality at exactly 95% passes and no rounding can differ between implementations.
/// </summary>
public sealed record DetectorOptions
{
    /// <summary>n-gram order: 1 for token detectors, 3 for trigram detectors.</summary>
    public int N { get; init; } = 1;

    /// <summary>Step 1: "pick neurons that can be triggered by only 1-5 tokens" (1-50 trigrams in A.2).</summary>
    public int MaxCoverage { get; init; } = 5;

    /// <summary>Step 1's coverage share, as in §4.1: 95%.</summary>
    public int CoveragePercent { get; init; } = 95;

    /// <summary>Step 2: a token is covered "if the neuron activates at least 95% of the time the token is present".</summary>
    public int FiringPercent { get; init; } = 95;

    /// <summary>
    /// Step 2: a token (n-gram) seen fewer times than this is never covered. The paper sets none, but a
    /// token seen once is covered by any neuron that fired on it. 10 is the smallest count at which covering it means
    /// more than firing on a handful of events: below 20 occurrences 95% still demands every one.
    /// </summary>
    public long MinOccurrences { get; init; } = 10;

    /// <summary>Step 3: "these covered tokens are responsible for at least 95% of neuron activations".</summary>
    public int ActivationPercent { get; init; } = 95;

    /// <summary>Figs 3, 4, 14, 15 show the first half of the network (x 0–0.5), where the detectors are.</summary>
    public bool FirstHalfOnly { get; init; } = true;

    /// <summary>BOS is left out by default: footnote 8.</summary>
    public TriggerCounting Counting { get; init; } = new();

    /// <summary>Token detectors, §4.2.</summary>
    public static DetectorOptions Tokens { get; } = new();

    /// <summary>Trigram detectors, A.2: "covered by only 1-50 trigrams", then the same 95% rules.</summary>
    public static DetectorOptions Trigrams { get; } = new() { N = 3, MaxCoverage = 50 };

    internal void Validate()
    {
        if (N is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(N), N, "N must be 1, 2 or 3.");
        if (MaxCoverage < 1) throw new ArgumentOutOfRangeException(nameof(MaxCoverage), MaxCoverage, "MaxCoverage must be at least 1.");
        foreach (var (name, p) in new[] { (nameof(CoveragePercent), CoveragePercent), (nameof(FiringPercent), FiringPercent), (nameof(ActivationPercent), ActivationPercent) })
            if (p is < 1 or > 100) throw new ArgumentOutOfRangeException(name, p, $"{name} must be in 1 … 100.");
    }
}
