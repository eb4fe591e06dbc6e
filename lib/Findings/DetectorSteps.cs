namespace OptNeurons.Findings;

/// <summary>
/// The three steps on one neuron's trigger bounds. With exact counts (sketch error 0, occurrences known) both verdicts
/// agree. Otherwise <see cref="Certain"/> takes every bound at its least favourable end (trigger counts at their lower
/// bounds, occurrences at their upper bound for step 2's rate and at their lower bound for the minimum), so a neuron it
/// accepts is a detector for any true values within the bounds; <see cref="Possible"/> takes every bound at its most
/// favourable end, so a neuron it rejects is a detector for none.
/// </summary>
internal static class DetectorSteps
{
    /// <summary>The covered n-grams if the neuron certainly passes all three steps, else null.</summary>
    public static IReadOnlyList<Trigger>? Certain(NeuronTriggers t, int? coverageUpper, DetectorOptions o)
    {
        if (coverageUpper is not int k || k > o.MaxCoverage) return null;                          // step 1
        var covered = t.Triggers.Where(x => x.Lower > 0 && x.OccurrencesLower >= o.MinOccurrences
                                            && 100 * x.Lower >= o.FiringPercent * x.Occurrences).ToArray();   // step 2
        long share = covered.Sum(x => x.Lower);
        return 100 * share >= (long)o.ActivationPercent * t.Activations ? covered : null;              // step 3
    }

    /// <summary>
    /// Whether the neuron passes with every count at its upper bound and every n-gram's occurrences at the value within
    /// their bounds that suits step 2 best (the fewest that still meet the minimum). N-grams missing from the summary
    /// triggered it at most Activations − Σ Lower times in all, and any of them might be covered, so that mass joins step
    /// 3's sum.
    /// </summary>
    public static bool Possible(NeuronTriggers t, int coverageLower, DetectorOptions o)
    {
        if (coverageLower > o.MaxCoverage) return false;
        static long Fewest(Trigger x, long minimum) => Math.Max(x.OccurrencesLower, minimum);
        long share = t.Triggers.Where(x => Fewest(x, o.MinOccurrences) <= x.Occurrences && 100 * x.Upper >= o.FiringPercent * Fewest(x, o.MinOccurrences))
                               .Sum(x => x.Upper);
        if (t.Error > 0) share += t.Activations - t.Triggers.Sum(x => x.Lower);
        return 100 * Math.Min(share, t.Activations) >= (long)o.ActivationPercent * t.Activations;
    }
}
