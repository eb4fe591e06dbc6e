using OptNeurons.Stats;

namespace OptNeurons.Findings;

/// <summary>
/// Which token positions an analysis counts. Statistics either counted position 0 (the BOS &lt;/s&gt; every sequence
/// starts with) or not (<see cref="StatsOptions.IncludeFirstPosition"/>); an analysis that excludes it from statistics
/// that counted it subtracts position 0's exact per-position counts, so both captures give identical numbers.
/// </summary>
internal static class CountedPositions
{
    /// <summary>The first position the statistics counted: 0, or 1 when they were captured without position 0.</summary>
    public static int FirstCounted(NeuronStats s) => s.Options.IncludeFirstPosition ? 0 : 1;

    /// <summary>The first position an analysis uses: position 0 only if counted and not excluded.</summary>
    public static int FirstUsed(NeuronStats s, bool excludeFirstPosition) => excludeFirstPosition ? 1 : FirstCounted(s);

    /// <summary>Tokens at positions ≥ <paramref name="from"/>.</summary>
    public static long TokenCount(NeuronStats s, int from)
    {
        long count = s.TokenCount;
        for (int p = FirstCounted(s); p < from && p < s.MaxLength; p++) count -= s.PositionTokenCounts[p];
        return count;
    }

    /// <summary>
    /// Per neuron of <paramref name="layer"/>, its active tokens at positions ≥ <paramref name="from"/>: the exact
    /// total minus the exact per-position counts below <paramref name="from"/> (which need tracked positions).
    /// </summary>
    public static long[] ActiveCounts(NeuronStats s, int layer, int from, string why)
    {
        var active = s.ActiveCounts(layer).ToArray();
        int first = FirstCounted(s);
        if (from <= first) return active;
        if (!s.Options.TrackPositions)
            throw new InvalidOperationException($"{why} needs the per-position counts of positions {first} … {from - 1}, " +
                                                "but these statistics were captured with TrackPositions = false.");
        var counts = s.PositionActiveCounts(layer);
        int f = s.FfnDim;
        for (int p = first; p < from && p < s.MaxLength; p++)
            for (int n = 0; n < f; n++) active[n] -= counts[p * f + n];
        return active;
    }
}
