using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace OptNeurons.Stats;

/// <summary>
/// Feeds one layer's activity in one batch into the per-neuron n-gram summaries. The input is the activity mask as the
/// activations come, token-major [N, F] with one byte per (counted token, neuron); each block of 64 neurons turns its
/// columns into one bit row per neuron with 64 × 64 bit transposes, which is cheaper than transposing the byte mask.
/// Neurons are independent and each block is handled by exactly one thread with its own scratch buffers, so the
/// outcome never depends on scheduling.
/// </summary>
internal static unsafe class SketchUpdater
{
    const int Block = 64;   // neurons per work item: one bit each in a 64-bit word

    /// <param name="sketches">One sketch per tracked order, matching <paramref name="orders"/>.</param>
    /// <param name="distinctKeys">[n-1]: the batch's distinct n-gram keys, increasing (<see cref="BatchLayout"/>).</param>
    /// <param name="keyRanks">[n-1][j]: index in distinctKeys[n-1] of the n-gram ending at counted token j, or -1.</param>
    /// <param name="mask">[N, F] bytes, nonzero where neuron f is active at counted token j.</param>
    /// <param name="rowBase">Sketch row of neuron 0 of this layer (layer index · F).</param>
    public static void UpdateLayer(NgramSketch[] sketches, IReadOnlyList<int> orders, long[][] distinctKeys, int[][] keyRanks,
                                   byte* mask, int tokens, int neurons, int rowBase)
    {
        nint basePtr = (nint)mask;
        int capacity = sketches[0].Capacity, words = (tokens + 63) / 64;
        ForChunks((neurons + Block - 1) / Block, 1, () => new SketchScratch(tokens, capacity), (block, s) =>
        {
            int f0 = block * Block, width = Math.Min(Block, neurons - f0);
            ActiveBits((byte*)basePtr, tokens, neurons, f0, width, s);
            for (int f = 0; f < width; f++)
            {
                var active = s.Active.AsSpan(0, ActiveTokens(s.Bits.AsSpan(f * words, words), s.Active));
                for (int o = 0; o < orders.Count; o++)
                {
                    int distinct = CountByRank(active, keyRanks[orders[o] - 1], distinctKeys[orders[o] - 1], s);
                    if (distinct > 0) sketches[o].Merge(rowBase + f0 + f, s.InKeys.AsSpan(0, distinct), s.InCounts.AsSpan(0, distinct), 0, s);
                }
            }
        });
    }

    /// <summary>
    /// Neurons f0 … f0+width-1 of the [N, F] mask as bit rows: bit j of s.Bits[f·words …] is set where neuron f0+f is
    /// active at counted token j. Reads 64 tokens × 64 neurons at a time and transposes the tile.
    /// </summary>
    static void ActiveBits(byte* mask, int tokens, int neurons, int f0, int width, SketchScratch s)
    {
        int words = (tokens + 63) / 64;
        var tile = s.Tile;
        for (int w = 0; w < words; w++)
        {
            int rows = Math.Min(64, tokens - w * 64);
            byte* p = mask + (long)w * 64 * neurons + f0;
            for (int r = 0; r < rows; r++, p += neurons) tile[r] = width == Block ? NonzeroBits64(p) : NonzeroBits(p, width);
            tile.AsSpan(rows).Clear();
            Transpose64(tile);
            for (int f = 0; f < width; f++) s.Bits[f * words + w] = tile[f];
        }
    }

    /// <summary>Bit i set where byte i of the 64 at <paramref name="p"/> is nonzero.</summary>
    static ulong NonzeroBits64(byte* p)
    {
        uint low = Vector256.ExtractMostSignificantBits(Vector256.Equals(Vector256.Load(p), Vector256<byte>.Zero));
        uint high = Vector256.ExtractMostSignificantBits(Vector256.Equals(Vector256.Load(p + 32), Vector256<byte>.Zero));
        return ~((ulong)high << 32 | low);
    }

    /// <summary>Bit i set where byte i of the <paramref name="width"/> (&lt; 64) at p is nonzero.</summary>
    static ulong NonzeroBits(byte* p, int width)
    {
        ulong bits = 0;
        for (int i = 0; i < width; i++) if (p[i] != 0) bits |= 1UL << i;
        return bits;
    }

    /// <summary>
    /// Transposes a 64 × 64 bit matrix in place: bit c of word r moves to bit r of word c. Swaps ever smaller
    /// off-diagonal blocks (32, 16, …, 1 bits), six passes of 32 word pairs each (Hacker's Delight, 7-3).
    /// </summary>
    internal static void Transpose64(Span<ulong> a)
    {
        ulong m = 0x00000000FFFFFFFF;
        for (int j = 32; j != 0; j >>= 1, m ^= m << j)
            for (int k = 0; k < 64; k = ((k | j) + 1) & ~j)   // the rows k with bit j clear, paired with k + j
            {
                ulong t = ((a[k] >> j) ^ a[k | j]) & m;   // high block of row k against low block of row k + j
                a[k] ^= t << j;
                a[k | j] ^= t;
            }
    }

    /// <summary>The set bits of <paramref name="bits"/> (counted tokens where a neuron is active), in increasing order.</summary>
    internal static int ActiveTokens(ReadOnlySpan<ulong> bits, Span<int> tokens)
    {
        int n = 0;
        for (int w = 0; w < bits.Length; w++)
            for (ulong word = bits[w]; word != 0; word &= word - 1) tokens[n++] = (w << 6) + BitOperations.TrailingZeroCount(word);
        return n;
    }

    /// <summary>
    /// The distinct n-grams ending at the counted tokens <paramref name="active"/> (increasing: where one neuron is
    /// active, as <see cref="ActiveTokens"/> lists them) and how often, in increasing key order, into s.InKeys and
    /// s.InCounts; returns how many. Counts go to a table indexed by the batch's key ranks, and the ranks touched are
    /// read back in increasing order from a bitmap: no sort per neuron. Leaves the table and bitmap zero.
    /// </summary>
    internal static int CountByRank(ReadOnlySpan<int> active, int[] ranks, long[] distinctKeys, SketchScratch s)
    {
        // Pointers, not bounds-checked indexing: the first loop runs for every active (token, neuron) pair and n-gram
        // order. The tokens increase, so checking the last one bounds every read, and a rank outside [0, distinct) (-1:
        // no n-gram ends there) is skipped, which bounds every write.
        int distinct = distinctKeys.Length;
        if (distinct > s.RankCounts.Length || (active.Length > 0 && (uint)active[^1] >= (uint)ranks.Length))
            throw new ArgumentException($"An active token past the batch's {ranks.Length} counted tokens, or {distinct} distinct keys " +
                                        $"for scratch tables of {s.RankCounts.Length}.");
        fixed (int* token = active, rankOf = ranks, counts = s.RankCounts, inCounts = s.InCounts)
        fixed (long* keys = distinctKeys, inKeys = s.InKeys)
        fixed (ulong* seen = s.Seen)
        {
            for (int i = 0; i < active.Length; i++)
            {
                int r = rankOf[token[i]];
                if ((uint)r >= (uint)distinct) continue;
                counts[r]++;
                seen[r >> 6] |= 1UL << r;   // the shift count is taken mod 64
            }
            int d = 0;
            for (int w = 0; w < (distinct + 63) >> 6; w++)
            {
                for (ulong bits = seen[w]; bits != 0; bits &= bits - 1)
                {
                    int r = (w << 6) + BitOperations.TrailingZeroCount(bits);
                    inKeys[d] = keys[r];
                    inCounts[d++] = counts[r];
                    counts[r] = 0;
                }
                seen[w] = 0;
            }
            return d;
        }
    }

    /// <summary>Parallel loop over [0, count) in chunks of at least <paramref name="minChunk"/>, one scratch per worker.</summary>
    internal static void ForChunks<TScratch>(int count, int minChunk, Func<TScratch> scratch, Action<int, TScratch> body)
    {
        int chunk = Math.Max(minChunk, count / (Environment.ProcessorCount * 8));
        Parallel.ForEach(Partitioner.Create(0, count, chunk), scratch, (range, _, s) =>
        {
            for (int i = range.Item1; i < range.Item2; i++) body(i, s);
            return s;
        }, _ => { });
    }
}
