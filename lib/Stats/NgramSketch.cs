using System.Runtime.Intrinsics;

namespace OptNeurons.Stats;

/// <summary>
/// Misra–Gries summaries of one n-gram order for many neurons ("rows"), stored flat: row r owns slots
/// [r·K, r·K + K) of <see cref="Keys"/> and <see cref="Counts"/>, its used slots first and sorted by key, unused slots
/// key -1 and count 0. A stored count never exceeds the true count and undercounts it by at most <see cref="Errors"/>[r];
/// an n-gram not stored triggered the neuron at most <see cref="Errors"/>[r] times. Error 0 means the row is exact.
/// Memory: 12·K + 12 bytes per row (int64 key and int32 count per slot, int64 error, int32 length).
/// </summary>
internal sealed class NgramSketch
{
    public int Capacity { get; }
    public int Rows { get; }
    public long[] Keys { get; }
    public int[] Counts { get; }
    public int[] Lengths { get; }
    public long[] Errors { get; }

    public NgramSketch(int rows, int capacity)
    {
        CheckSize(rows, capacity);
        (Rows, Capacity) = (rows, capacity);
        Keys = new long[rows * capacity];
        Array.Fill(Keys, -1L);
        Counts = new int[Keys.Length];
        Lengths = new int[rows];
        Errors = new long[rows];
    }

    /// <summary>Refuses more slots than one .NET array holds (a sketch's keys are one array on the host).</summary>
    internal static void CheckSize(int rows, int capacity)
    {
        if ((long)rows * capacity > Array.MaxLength)
            throw new ArgumentException($"{rows} neurons × SketchCapacity {capacity} slots exceed one .NET array ({Array.MaxLength} elements); " +
                                        "capture fewer layers per run, or lower SketchCapacity.");
    }

    /// <summary>Rebuilds a sketch from saved arrays; lengths are recovered from the positive counts.</summary>
    public NgramSketch(int rows, int capacity, long[] keys, int[] counts, long[] errors)
    {
        (Rows, Capacity, Keys, Counts, Errors) = (rows, capacity, keys, counts, errors);
        Lengths = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            var c = counts.AsSpan(r * capacity, capacity);
            int len = c.IndexOf(0);
            Lengths[r] = len < 0 ? capacity : len;
        }
    }

    public NgramSketch Clone() =>
        new(Rows, Capacity, (long[])Keys.Clone(), (int[])Counts.Clone(), (long[])Errors.Clone());

    public ReadOnlySpan<long> RowKeys(int row) => Keys.AsSpan(row * Capacity, Lengths[row]);
    public ReadOnlySpan<int> RowCounts(int row) => Counts.AsSpan(row * Capacity, Lengths[row]);

    /// <summary>
    /// Adds a key-sorted list of distinct (key, count) pairs, which undercounts by at most <paramref name="inError"/>,
    /// to row <paramref name="row"/>. If more than K keys result, the (K+1)-th largest count c is subtracted from all,
    /// keys left at ≤ 0 are dropped, and c joins the error (the mergeable Misra–Gries rule of Agarwal et al. 2012).
    /// Deterministic: the result depends only on the row and the input, never on which thread runs it.
    /// </summary>
    public void Merge(int row, ReadOnlySpan<long> inKeys, ReadOnlySpan<int> inCounts, long inError, SketchScratch s)
    {
        int k = Capacity, off = row * k, len = Lengths[row];
        var keys = Keys.AsSpan(off, k);
        var counts = Counts.AsSpan(off, k);
        s.EnsureMerge(len + inKeys.Length);
        ReadOnlySpan<long> mergedKeys = inKeys;   // an empty row adds nothing: the input is already the merged list
        ReadOnlySpan<int> mergedCounts = inCounts;
        if (len > 0)
        {
            var outKeys = s.MKeys.AsSpan(0, len + inKeys.Length);
            var outCounts = s.MCounts.AsSpan(0, outKeys.Length);
            int i = 0, j = 0, m = 0;
            while (i < len && j < inKeys.Length)   // merge of two key-sorted lists, equal keys summed
            {
                long a = keys[i], b = inKeys[j];
                if (a < b) { outKeys[m] = a; outCounts[m++] = counts[i++]; }
                else if (b < a) { outKeys[m] = b; outCounts[m++] = inCounts[j++]; }
                else { outKeys[m] = a; outCounts[m++] = counts[i++] + inCounts[j++]; }
            }
            keys[i..len].CopyTo(outKeys[m..]);   // then the rest of whichever list is left
            counts[i..len].CopyTo(outCounts[m..]);
            m += len - i;
            inKeys[j..].CopyTo(outKeys[m..]);
            inCounts[j..].CopyTo(outCounts[m..]);
            m += inKeys.Length - j;
            mergedKeys = outKeys[..m];
            mergedCounts = outCounts[..m];
        }
        int cut = mergedKeys.Length > k ? KPlusFirstLargest(mergedCounts, k, s.Sorted) : 0;
        int w = 0;
        for (int t = 0; t < mergedKeys.Length; t++)
        {
            int c = mergedCounts[t] - cut;
            if (c > 0) { keys[w] = mergedKeys[t]; counts[w++] = c; }
        }
        keys[w..Math.Max(w, len)].Fill(-1);
        counts[w..Math.Max(w, len)].Clear();
        Lengths[row] = w;
        Errors[row] += inError + cut;
    }

    /// <summary>
    /// The (k+1)-th largest of <paramref name="counts"/> (more than k values, none negative): the largest v that at
    /// least k+1 counts reach. Trigger counts are mostly small, so v = 1, 2, … are tried in turn, each with one
    /// vectorised counting pass, and a quickselect in <paramref name="work"/> takes over past <see cref="CountingPasses"/>.
    /// </summary>
    internal static int KPlusFirstLargest(ReadOnlySpan<int> counts, int k, int[] work)
    {
        for (int v = 1; v <= CountingPasses; v++)
            if (CountAtLeast(counts, v) <= k) return v - 1;
        var copy = work.AsSpan(0, counts.Length);
        counts.CopyTo(copy);
        return Select(copy, counts.Length - k - 1);
    }

    const int CountingPasses = 8;

    static int CountAtLeast(ReadOnlySpan<int> values, int v)
    {
        var threshold = Vector256.Create(v);
        var sum = Vector256<int>.Zero;
        int i = 0;
        for (; i + Vector256<int>.Count <= values.Length; i += Vector256<int>.Count)
            sum -= Vector256.GreaterThanOrEqual(Vector256.Create(values.Slice(i, Vector256<int>.Count)), threshold).AsInt32();   // true is -1
        int n = Vector256.Sum(sum);
        for (; i < values.Length; i++) if (values[i] >= v) n++;
        return n;
    }

    /// <summary>The <paramref name="rank"/>-th smallest value (0-based), by quickselect: O(m) where a sort is O(m log m).</summary>
    internal static int Select(Span<int> a, int rank)
    {
        int lo = 0, hi = a.Length - 1;
        while (lo < hi)
        {
            int pivot = a[lo + (hi - lo) / 2], i = lo, j = hi;
            while (i <= j)   // Hoare partition: equal values go to both sides, so runs of equal counts stay cheap
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) { (a[i], a[j]) = (a[j], a[i]); i++; j--; }
            }
            if (rank <= j) hi = j;
            else if (rank >= i) lo = i;
            else return a[rank];
        }
        return a[rank];
    }

    /// <summary>Adds every row of <paramref name="other"/> (same shape) into this sketch.</summary>
    public void MergeAll(NgramSketch other)
    {
        SketchUpdater.ForChunks(Rows, 16, () => new SketchScratch(0, Capacity),
            (r, s) => Merge(r, other.RowKeys(r), other.RowCounts(r), other.Errors[r], s));
    }
}

/// <summary>Per-thread buffers, so rows can be updated in parallel without allocation or sharing.</summary>
internal sealed class SketchScratch(int tokens, int capacity)
{
    public ulong[] Bits = new ulong[64 * ((tokens + 63) / 64)];   // 64 neurons' activity, one bit row each
    public ulong[] Tile = new ulong[64];
    public int[] Active = new int[tokens];                 // one neuron's active counted tokens
    public int[] RankCounts = new int[tokens];            // by key rank: a batch has at most `tokens` distinct keys
    public ulong[] Seen = new ulong[(tokens + 63) / 64];  // bit r: rank r has a count
    public long[] InKeys = new long[tokens];
    public int[] InCounts = new int[tokens];
    public long[] MKeys = new long[capacity + tokens];
    public int[] MCounts = new int[capacity + tokens];
    public int[] Sorted = new int[capacity + tokens];

    public void EnsureMerge(int n)
    {
        if (MKeys.Length >= n) return;
        (MKeys, MCounts, Sorted) = (new long[n], new int[n], new int[n]);
    }
}
