namespace OptNeurons.Findings;

/// <summary>Classifies an activation-frequency curve by <see cref="PatternRules"/>.</summary>
public static class PositionPatterns
{
    /// <summary>
    /// The type is decided at the weak tolerance. Types 1–3 are strong when the strong tolerance gives the same type;
    /// "other" is strong when its roughness is at most <see cref="PatternRules.SmoothnessTolerance"/>.
    /// </summary>
    public static (PatternType Type, bool Strong) Classify(IReadOnlyList<double> curve, PatternRules? rules = null)
    {
        rules ??= new();
        rules.Validate();
        var type = TypeAt(curve, rules.WeakTolerance, rules);
        bool strong = type == PatternType.Other ? Roughness(curve) <= rules.SmoothnessTolerance
                                                : TypeAt(curve, rules.StrongTolerance, rules) == type;
        return (type, strong);
    }

    /// <summary>The extremes visited at tolerance ε, in position order: true for 1, false for 0.</summary>
    public static IReadOnlyList<bool> Visits(IReadOnlyList<double> curve, double epsilon, PatternRules rules)
    {
        int minRun = Math.Max(rules.MinRunPositions, (int)Math.Ceiling(rules.MinRunShare * curve.Count));
        var visits = new List<bool>();
        for (int i = 0; i < curve.Count;)
        {
            var kind = Kind(curve[i], epsilon);
            int j = i + 1;
            while (j < curve.Count && kind is not null && Kind(curve[j], epsilon) == kind) j++;
            if (kind is bool k && j - i >= minRun && (visits.Count == 0 || visits[^1] != k)) visits.Add(k);
            i = j;
        }
        return visits;
    }

    /// <summary>RMS of fr(i) − (fr(i−1) + fr(i+1)) / 2 over interior points, over the curve's range (∞ when flat or shorter than 3).</summary>
    public static double Roughness(IReadOnlyList<double> curve)
    {
        if (curve.Count < 3) return double.PositiveInfinity;
        double range = curve.Max() - curve.Min();
        if (range == 0) return double.PositiveInfinity;
        double squares = 0;
        for (int i = 1; i < curve.Count - 1; i++)
        {
            double r = curve[i] - (curve[i - 1] + curve[i + 1]) / 2;
            squares += r * r;
        }
        return Math.Sqrt(squares / (curve.Count - 2)) / range;
    }

    static bool? Kind(double f, double epsilon) => f >= 1 - epsilon ? true : f <= epsilon ? false : null;

    static PatternType TypeAt(IReadOnlyList<double> curve, double epsilon, PatternRules rules)
    {
        var visits = Visits(curve, epsilon, rules);
        return visits.Count >= rules.MinOscillationVisits ? PatternType.Oscillatory
             : visits.Distinct().Count() == 2 ? PatternType.BothExtremes
             : visits.Count == 1 ? PatternType.OneExtreme
             : PatternType.Other;
    }
}
