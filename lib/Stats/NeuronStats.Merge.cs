namespace OptNeurons.Stats;

public sealed partial class NeuronStats
{
    /// <summary>
    /// Statistics of the union of two disjoint inputs (e.g. two data shards counted on two machines). Exact parts add;
    /// each neuron's summaries merge by the Misra–Gries rule (keep the K largest after subtracting the (K+1)-th largest
    /// count, error = error_a + error_b + subtracted), so where no summary overflows the result equals one run over both.
    /// Refuses, naming the field and both values, statistics of another model, revision, layer set, shape or options.
    /// </summary>
    public static NeuronStats Merge(NeuronStats a, NeuronStats b)
    {
        var (x, y) = (a.Manifest, b.Manifest);
        Same("format version", x.FormatVersion, y.FormatVersion);
        Same("model", x.Model, y.Model);
        Same("config hash", x.ConfigHash, y.ConfigHash);
        Same("revision", x.Revision ?? "(none)", y.Revision ?? "(none)");
        Same("layers", $"[{string.Join(", ", x.Layers)}]", $"[{string.Join(", ", y.Layers)}]");
        Same("ffn dim (F)", x.FfnDim, y.FfnDim);
        Same("max length (T)", x.MaxLength, y.MaxLength);
        Same("vocab size", x.VocabSize, y.VocabSize);
        if (!x.Options.Equals(y.Options))
            throw new ArgumentException($"Cannot merge statistics with different options: {x.Options.Describe()} vs {y.Options.Describe()}.");
        long tokens = x.TokenCount + y.TokenCount;
        if (x.Options.NgramOrders.Count > 0 && tokens > int.MaxValue)
            throw new ArgumentException($"Cannot merge statistics: {tokens} tokens would overflow the int32 sketch counts (at most {int.MaxValue}).");

        bool sameSeed = x.Seed == y.Seed;
        var manifest = x with
        {
            Data = $"{Describe(x, sameSeed)} + {Describe(y, sameSeed)}",
            Seed = sameSeed ? x.Seed : null,
            TokenCount = tokens,
            SequenceCount = x.SequenceCount + y.SequenceCount,
            LibraryVersion = StatsManifest.CurrentLibraryVersion,
        };
        var positions = a.positionActiveCounts?.Zip(b.positionActiveCounts!, Add).ToArray();
        var sketches = x.Options.NgramOrders.Select(n =>
        {
            var s = a.Sketch(n).Clone();
            s.MergeAll(b.Sketch(n));
            return s;
        }).ToArray();
        var occurrences = x.Options.NgramOrders.Select(n => a.OccurrenceTable(n).Add(b.OccurrenceTable(n))).ToArray();
        return new NeuronStats(manifest, Add(a.activeCounts, b.activeCounts), positions,
            Add(a.positionTokenCounts, b.positionTokenCounts), occurrences, sketches);
    }

    /// <summary>The same numbers under another data description: shards merged back into the one run they split.</summary>
    internal NeuronStats WithData(string data) =>
        new(Manifest with { Data = data }, activeCounts, positionActiveCounts, positionTokenCounts, occurrences, sketches);

    static string Describe(StatsManifest m, bool sameSeed) => sameSeed || m.Seed is null ? m.Data : $"{m.Data} (seed {m.Seed})";

    static void Same<TValue>(string field, TValue a, TValue b)
    {
        if (!EqualityComparer<TValue>.Default.Equals(a, b))
            throw new ArgumentException($"Cannot merge statistics with different {field}: {a} vs {b}.");
    }

    static long[] Add(long[] a, long[] b)
    {
        var sum = new long[a.Length];
        for (int i = 0; i < a.Length; i++) sum[i] = a[i] + b[i];
        return sum;
    }

    static int[] Add(int[] a, int[] b)
    {
        var sum = new int[a.Length];
        for (int i = 0; i < a.Length; i++) sum[i] = checked(a[i] + b[i]);
        return sum;
    }
}
