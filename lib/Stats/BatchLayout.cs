namespace OptNeurons.Stats;

/// <summary>
/// Host-side bookkeeping of one batch, computed once in <see cref="NeuronStatsCollector.CountBatch"/> and shared by
/// every layer's update: which tokens are counted, their positions, and the n-gram ending at each of them.
/// Counted tokens are listed in row-major (batch, column) order, the order in which the device gathers them.
/// </summary>
internal sealed class BatchLayout
{
    public required int Batch { get; init; }
    public required int Columns { get; init; }
    /// <summary>Flat index b·Columns + t of each counted token.</summary>
    public required long[] CountedFlat { get; init; }
    /// <summary>HF position id of each counted token.</summary>
    public required long[] CountedPositions { get; init; }
    /// <summary>Keys[n-1][j]: packed key of the n-gram ending at counted token j, or -1 when it does not exist.</summary>
    public required long[][] Keys { get; init; }
    /// <summary>Rows holding at least one real (mask 1) token.</summary>
    public required long Sequences { get; init; }
    /// <summary>DistinctKeys[n-1]: the batch's distinct n-gram keys, in increasing order.</summary>
    public required long[][] DistinctKeys { get; init; }
    /// <summary>
    /// KeyRanks[n-1][j]: index in DistinctKeys[n-1] of the key ending at counted token j, or -1. Ranks order like keys,
    /// so the n-gram summaries count triggers by rank in a small dense table instead of sorting keys per neuron.
    /// </summary>
    public required int[][] KeyRanks { get; init; }

    public int Count => CountedFlat.Length;

    /// <summary>
    /// The counted tokens as rectangles of the [B, T] batch: rows Row … Row+Rows-1, columns Column … Column+Length-1, at
    /// positions Position … Position+Length-1 in each of those rows. A rectangle's rows are back-to-back batch rows whose
    /// counted tokens are one run of the same columns and positions (the rows of an unpadded batch, or of a padded one
    /// with equal lengths, are one rectangle). Counts are added a rectangle at a time, read in place from the
    /// activations: a per-token scatter costs one kernel call per token on the CPU, and a gather of the counted tokens
    /// would copy every layer's activity.
    /// </summary>
    public IReadOnlyList<(int Row, int Column, long Position, int Length, int Rows)> Rectangles => rectangles ??= FindRectangles().ToArray();

    (int Row, int Column, long Position, int Length, int Rows)[]? rectangles;   // found once, read by every layer's update

    IEnumerable<(int Row, int Column, long Position, int Length, int Rows)> FindRectangles()
    {
        (int Row, int Column, long Position, int Length, int Rows)? open = null;
        for (int start = 0, j = 1; j <= Count; j++)
        {
            if (j < Count && CountedFlat[j] == CountedFlat[j - 1] + 1 && CountedFlat[j] % Columns != 0 &&
                CountedPositions[j] == CountedPositions[j - 1] + 1)
                continue;   // the run goes on: same row, next column, next position
            var (row, column, position, length) = ((int)(CountedFlat[start] / Columns), (int)(CountedFlat[start] % Columns), CountedPositions[start], j - start);
            if (open is { } g && g.Row + g.Rows == row && g.Column == column && g.Position == position && g.Length == length)
                open = g with { Rows = g.Rows + 1 };
            else
            {
                if (open is { } done) yield return done;
                open = (row, column, position, length, 1);
            }
            start = j;
        }
        if (open is { } last) yield return last;
    }

    /// <summary>
    /// Positions exactly as HF OPT derives them from the attention mask: pos = cumsum(mask) · mask - 1 along each row, so real
    /// tokens are numbered 0, 1, 2, … however much padding surrounds them. A token is counted when its mask is 1 and,
    /// unless <paramref name="includeFirst"/>, its position is at least 1. An n-gram ends at counted token k only if its
    /// n tokens are counted tokens of the same row at consecutive positions.
    /// </summary>
    public static BatchLayout Build(long[] ids, long[] mask, int batch, int columns, bool includeFirst, int maxLength, int vocabSize)
    {
        var flat = new List<long>();
        var positions = new List<long>();
        var keys = new[] { new List<long>(), new List<long>(), new List<long>() };
        long sequences = 0;
        for (int b = 0; b < batch; b++)
        {
            long pos = -1, previous1 = -1, previous2 = -1;
            int run = 0;   // counted tokens ending at the previous real token of this row
            for (int t = 0; t < columns; t++)
            {
                int i = b * columns + t;
                if (mask[i] == 0) continue;
                if (mask[i] != 1)
                    throw new ArgumentException($"attentionMask[{b}, {t}] is {mask[i]}; an attention mask holds only 0 (padding) and 1 (token).");
                pos++;
                if (pos >= maxLength)
                    throw new ArgumentException($"Position {pos} (row {b} has more than {maxLength} real tokens) is not below maxLength {maxLength}.");
                long id = ids[i];
                if (id < 0 || id >= vocabSize)
                    throw new ArgumentException($"Token id {id} at inputIds[{b}, {t}] is outside the vocabulary [0, {vocabSize}) (vocabSize {vocabSize}).");
                if (!includeFirst && pos == 0) { run = 0; continue; }
                run++;
                long k2 = run >= 2 ? NgramKey.Extend(previous1, (int)id) : -1;
                long k3 = run >= 3 ? NgramKey.Extend(previous2, (int)id) : -1;
                flat.Add(i);
                positions.Add(pos);
                keys[0].Add(id);
                keys[1].Add(k2);
                keys[2].Add(k3);
                (previous1, previous2) = (id, k2);
            }
            if (pos >= 0) sequences++;
        }
        var keyArrays = keys.Select(k => k.ToArray()).ToArray();
        var distinct = keyArrays.Select(Distinct).ToArray();
        return new BatchLayout
        {
            Batch = batch, Columns = columns, CountedFlat = flat.ToArray(), CountedPositions = positions.ToArray(),
            Keys = keyArrays, Sequences = sequences, DistinctKeys = distinct,
            KeyRanks = keyArrays.Zip(distinct, (k, d) => Array.ConvertAll(k, key => key < 0 ? -1 : Array.BinarySearch(d, key))).ToArray(),
        };
    }

    /// <summary>The keys that exist (≥ 0), sorted, without repeats.</summary>
    static long[] Distinct(long[] keys)
    {
        var sorted = Array.FindAll(keys, k => k >= 0);
        Array.Sort(sorted);
        int d = 0;
        for (int i = 0; i < sorted.Length; i++)
            if (d == 0 || sorted[i] != sorted[d - 1]) sorted[d++] = sorted[i];
        return sorted[..d];
    }
}
