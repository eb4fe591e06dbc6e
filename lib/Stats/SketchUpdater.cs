using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace OptNeurons.Stats;

/// <summary>
/// Feeds one layer's activity in one batch into the per-neuron n-gram summaries. The input is the activity mask
/// transposed to [F, N] (one byte per counted token), so each neuron's events are a contiguous row. Neurons are
/// independent and each is updated by exactly one thread with its own scratch buffers, so the outcome never depends on
/// scheduling.
/// </summary>
internal static unsafe class SketchUpdater
{
    /// <param name="sketches">One sketch per tracked order, matching <paramref name="orders"/>.</param>
    /// <param name="distinctKeys">DistinctKeys[n-1]: the batch's distinct n-gram keys, increasing (<see cref="BatchLayout"/>).</param>
    /// <param name="keyRanks">KeyRanks[n-1][j]: index in distinctKeys[n-1] of the n-gram ending at counted token j, -1 if none.</param>
    /// <param name="mask">[F, N] bytes, nonzero where neuron f is active at counted token j.</param>
    /// <param name="rowBase">Sketch row of neuron 0 of this layer (layer index · F).</param>
    public static void UpdateLayer(NgramSketch[] sketches, IReadOnlyList<int> orders, long[][] distinctKeys, int[][] keyRanks,
                                   byte* mask, int tokens, int neurons, int rowBase)
    {
        nint basePtr = (nint)mask;
        int capacity = sketches[0].Capacity;
        ForChunks(neurons, () => new SketchScratch(tokens, capacity), (f, s) =>
        {
            var row = new ReadOnlySpan<byte>((byte*)basePtr + (long)f * tokens, tokens);
            int events = ActiveIndices(row, s.Events);
            if (events == 0) return;
            for (int o = 0; o < orders.Count; o++)
            {
                int distinct = CountByRank(s.Events.AsSpan(0, events), keyRanks[orders[o] - 1], distinctKeys[orders[o] - 1], s);
                if (distinct > 0) sketches[o].Merge(rowBase + f, s.InKeys.AsSpan(0, distinct), s.InCounts.AsSpan(0, distinct), 0, s);
            }
        });
    }

    /// <summary>
    /// The distinct n-grams ending at the <paramref name="events"/> tokens and how often, in increasing key order, into
    /// s.InKeys and s.InCounts; returns how many. Counts go to a table indexed by the batch's key ranks, and the ranks
    /// touched are read back in increasing order from a bitmap: no sort per neuron. Leaves the table and bitmap zero.
    /// </summary>
    internal static int CountByRank(ReadOnlySpan<int> events, int[] ranks, long[] distinctKeys, SketchScratch s)
    {
        foreach (int j in events)
        {
            int r = ranks[j];
            if (r >= 0 && s.RankCounts[r]++ == 0) s.Seen[r >> 6] |= 1UL << r;   // the shift count is taken mod 64
        }
        int d = 0;
        for (int w = 0; w < (distinctKeys.Length + 63) >> 6; w++)
        {
            for (ulong bits = s.Seen[w]; bits != 0; bits &= bits - 1)
            {
                int r = (w << 6) + BitOperations.TrailingZeroCount(bits);
                s.InKeys[d] = distinctKeys[r];
                s.InCounts[d++] = s.RankCounts[r];
                s.RankCounts[r] = 0;
            }
            s.Seen[w] = 0;
        }
        return d;
    }

    /// <summary>Indices of the nonzero bytes of <paramref name="row"/>, 16 bytes per SIMD compare.</summary>
    internal static int ActiveIndices(ReadOnlySpan<byte> row, int[] dest)
    {
        int n = 0, i = 0;
        ref byte start = ref MemoryMarshal.GetReference(row);
        for (; i + 16 <= row.Length; i += 16)
        {
            var zero = Vector128.Equals(Vector128.LoadUnsafe(ref start, (nuint)i), Vector128<byte>.Zero);
            uint bits = ~Vector128.ExtractMostSignificantBits(zero) & 0xFFFF;
            while (bits != 0)
            {
                dest[n++] = i + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
            }
        }
        for (; i < row.Length; i++) if (row[i] != 0) dest[n++] = i;
        return n;
    }

    /// <summary>Parallel loop over [0, count) in chunks, one scratch object per worker.</summary>
    internal static void ForChunks<TScratch>(int count, Func<TScratch> scratch, Action<int, TScratch> body)
    {
        int chunk = Math.Max(16, count / (Environment.ProcessorCount * 8));
        Parallel.ForEach(Partitioner.Create(0, count, chunk), scratch, (range, _, s) =>
        {
            for (int i = range.Item1; i < range.Item2; i++) body(i, s);
            return s;
        }, _ => { });
    }
}
