namespace OptNeurons.Findings;

/// <summary>
/// The coverage number of §4.1 from a neuron's trigger bounds: the smallest k such that the k most frequent n-grams
/// together triggered at least <c>percent</c>% of its A activations, tested in integers as 100 · sum ≥ percent · A.
/// Ties never matter: the sum of the k largest counts does not depend on which of equal counts is taken.
/// </summary>
internal static class CoverageBounds
{
    /// <summary>
    /// Lower: the k reached by the largest values any k true counts can take: each listed n-gram's Upper, and any number
    /// of unlisted n-grams at Error each, largest first (a rare listed n-gram's Upper, capped by its occurrences, can be
    /// below Error), so no true top-k sum exceeds them. Upper: the k reached by the listed lower bounds, which some k true
    /// counts reach at least; null when the listed lower bounds never reach the share (the coverage is then only known to
    /// be ≥ Lower). Lower = Upper exactly when the summary was exact (Error 0), and sometimes otherwise.
    /// </summary>
    public static (int Lower, int? Upper) Of(NeuronTriggers t, int percent)
    {
        if (t.Activations <= 0) throw new ArgumentException("A neuron without activations has no coverage number.");
        long target = (long)percent * t.Activations;
        int? upper = null;
        long sum = 0;
        for (int i = 0; i < t.Triggers.Count; i++)
        {
            sum += t.Triggers[i].Lower;
            if (100 * sum >= target) { upper = i + 1; break; }
        }
        var uppers = t.Triggers.Select(x => x.Upper).OrderDescending().ToArray();
        sum = 0;
        for (int i = 0; i < uppers.Length && uppers[i] >= t.Error; i++)
        {
            sum += uppers[i];
            if (100 * sum >= target) return (i + 1, upper);
        }
        if (t.Error == 0) throw new InvalidDataException("Exact trigger counts do not reach the neuron's activations.");
        // From here on every value is at most Error, and unlisted n-grams supply Error each as many times as needed.
        int taken = uppers.Count(u => u >= t.Error);
        long missing = target - 100 * sum;
        return (taken + (int)((missing + 100 * t.Error - 1) / (100 * t.Error)), upper);
    }
}
