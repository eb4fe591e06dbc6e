using System.Runtime.InteropServices;

namespace OptNeurons.Stats;

/// <summary>
/// Exact number of times each n-gram of one order occurs among counted tokens: dense by token id for unigrams,
/// key-sorted (key, count) arrays for bigrams and trigrams, whose observed set is far smaller than V² or V³.
/// </summary>
internal sealed class OccurrenceTable
{
    public int Order { get; }
    /// <summary>Unigrams only: count of token id i.</summary>
    public long[]? Dense { get; }
    /// <summary>Bigrams and trigrams: distinct keys in increasing order, and their counts.</summary>
    public long[] Keys { get; }
    public long[] Counts { get; }

    OccurrenceTable(int order, long[]? dense, long[] keys, long[] counts) => (Order, Dense, Keys, Counts) = (order, dense, keys, counts);

    public static OccurrenceTable Unigrams(long[] dense) => new(1, dense, [], []);

    public static OccurrenceTable Sparse(int order, long[] keys, long[] counts)
    {
        for (int i = 1; i < keys.Length; i++)
            if (keys[i] <= keys[i - 1]) throw new InvalidDataException($"occurrences{order}.keys are not strictly increasing at index {i}.");
        return new(order, null, keys, counts);
    }

    public static OccurrenceTable FromDictionary(int order, Dictionary<long, long> counts)
    {
        var keys = counts.Keys.ToArray();
        Array.Sort(keys);
        return new(order, null, keys, keys.Select(k => counts[k]).ToArray());
    }

    public long this[long key]
    {
        get
        {
            if (Dense is not null) return key >= 0 && key < Dense.Length ? Dense[key] : 0;
            int i = Array.BinarySearch(Keys, key);
            return i >= 0 ? Counts[i] : 0;
        }
    }

    /// <summary>Distinct n-grams seen at least once.</summary>
    public long Distinct => Dense?.LongCount(c => c > 0) ?? Keys.LongLength;

    /// <summary>Every n-gram seen, by increasing key.</summary>
    public IEnumerable<(long Key, long Count)> Entries()
    {
        if (Dense is not null)
        {
            for (long i = 0; i < Dense.Length; i++) if (Dense[i] > 0) yield return (i, Dense[i]);
            yield break;
        }
        for (int i = 0; i < Keys.Length; i++) yield return (Keys[i], Counts[i]);
    }

    /// <summary>Exact sum of two tables of the same order (and vocabulary, for unigrams).</summary>
    public OccurrenceTable Add(OccurrenceTable other)
    {
        if (Dense is not null) return Unigrams(Dense.Zip(other.Dense!, (a, b) => a + b).ToArray());
        var sum = new Dictionary<long, long>(Keys.Length + other.Keys.Length);
        foreach (var t in new[] { this, other })
            for (int i = 0; i < t.Keys.Length; i++) CollectionsMarshal.GetValueRefOrAddDefault(sum, t.Keys[i], out _) += t.Counts[i];
        return FromDictionary(Order, sum);
    }
}
