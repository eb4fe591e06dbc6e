using TorchSharp;
using static TorchSharp.torch;
using OptNeurons.Runtime;
using static OptNeurons.Runtime.Scalars;

namespace OptNeurons.Stats;

/// <summary>
/// The Misra–Gries summaries of one n-gram order (<see cref="NgramSketch"/>'s layout and merge rule, byte for byte) as
/// tensors on the collector's device: keys [R, K] int64 (-1 unused), counts [R, K] int32 (0 unused), errors [R] int64,
/// R = layers · F. They are updated with tensor operations, so a GPU collector never copies an activity mask to the
/// host. Per block of neurons and order, the work is one sort of the batch's (neuron, n-gram) pairs as int32 codes;
/// the stored entries, already in key order, are matched to them by binary search, and each row's cut is read from a
/// histogram of its counts. A step waits for the device only where a result's size depends on the data (per block, its
/// active pairs; per order, its distinct pairs and the rows whose cut needs a sort).
/// Memory: 12·K + 8 bytes per row on the device (the host sketch's lengths are recovered from the counts), plus an
/// update's temporaries (<see cref="StepBytesPerEntry"/>).
/// </summary>
internal sealed class DeviceSketches : IDisposable
{
    /// <summary>
    /// Default bound on the entries one step of <see cref="UpdateLayer"/> handles: active (token, neuron) pairs plus
    /// K stored slots per neuron of its block.
    /// </summary>
    public const long DefaultStepEntries = 1L << 22;

    /// <summary>
    /// Estimate of the device bytes one step takes per entry (see <see cref="DefaultStepEntries"/>): counted from the
    /// tensors alive at a step's peak (the last stage of <see cref="MergeBlock"/>), about 120 bytes per active pair and
    /// 80 per stored slot, with a margin for the sort's workspace and the allocator. 2^22 entries: about 0.8 GB.
    /// </summary>
    public const long StepBytesPerEntry = 200;

    const long CountLimit = 1L << 31;   // every count is below this: the collector refuses more than int.MaxValue tokens

    readonly Tensor keys, counts, errors;

    public int Rows { get; }
    public int Capacity { get; }
    /// <summary>Bits of this order's packed keys (<see cref="NgramKey"/>): every key is below 2^KeyBits.</summary>
    public int KeyBits { get; }

    public DeviceSketches(int rows, int capacity, int order, Device device)
    {
        NgramSketch.CheckSize(rows, capacity);
        if (order is < 1 or > 3) throw new ArgumentOutOfRangeException(nameof(order), order, "n-gram orders are 1, 2 or 3.");
        (Rows, Capacity, KeyBits) = (rows, capacity, order * NgramKey.BitsPerToken);
        // Like the collector's other accumulators: normal tensors that outlive every caller's dispose scope.
        using (inference_mode(false))
        {
            keys = full(rows, capacity, -1L, ScalarType.Int64, device).DetachFromDisposeScope();
            counts = zeros(rows, capacity, ScalarType.Int32, device).DetachFromDisposeScope();
            errors = zeros(rows, ScalarType.Int64, device).DetachFromDisposeScope();
        }
    }

    /// <summary>
    /// Adds one layer's activity in one batch to every order's summaries: <paramref name="active"/> is the [N, F] bool
    /// mask of the batch's counted tokens, <paramref name="ngrams"/>[o] the batch's n-grams of order o on the device,
    /// <paramref name="rowBase"/> the row of the layer's neuron 0. Neurons are taken in blocks whose active pairs plus
    /// stored slots (K per neuron) stay within <paramref name="stepEntries"/> (a neuron with more takes a step alone),
    /// which bounds the temporaries; neurons that never fire are skipped, as their rows get no new key. A block is also
    /// narrow enough for its codes to pack: w·(R + 1) ≤ 2^31 - 1 for (neuron, rank) pairs in int32, where R is the
    /// batch's distinct n-grams of an order, and w ≤ 2^(63 - key bits) for (neuron, key) pairs in int64 (4,096 neurons
    /// with trigrams; see <see cref="MergeBlock"/>).
    /// </summary>
    public static void UpdateLayer(DeviceSketches[] sketches, IReadOnlyList<DeviceNgrams> ngrams, Tensor active, int rowBase, long stepEntries)
    {
        int neurons = (int)active.shape[1];
        long k = sketches[0].Capacity;
        long widest = Math.Min(1L << (63 - sketches.Max(s => s.KeyBits)), int.MaxValue / (ngrams.Max(g => g.Count) + 1));
        int maxWidth = (int)Math.Min(int.MaxValue, widest);
        long[] fired;   // active tokens per neuron: one small copy to the host per layer, to plan the steps
        using (NewDisposeScope()) fired = TensorArrays.ToArray<long>(active.sum(0, type: ScalarType.Int64).cpu());
        for (int f0 = 0; f0 < neurons;)
        {
            if (fired[f0] == 0) { f0++; continue; }
            int f1 = f0 + 1;
            for (long size = fired[f0] + k; f1 < neurons && f1 - f0 < maxWidth && size + fired[f1] + k <= stepEntries; f1++) size += fired[f1] + k;
            using var scope = NewDisposeScope();
            using var c = new ScalarScope();   // every Scalar held until the step ends (see Scalars)
            int w = f1 - f0;
            // Each active (token j, neuron f) of the block as j·w + f: below N·w, at most N·F < 2^62.
            var events = active.narrow(1, f0, w).reshape(-1).nonzero().squeeze(1);
            var token = events.div(c[w], RoundingMode.floor);
            var neuron = events.remainder(c[w]).to(ScalarType.Int32);
            for (int o = 0; o < sketches.Length; o++)
                if (ngrams[o].Count > 0)   // a batch of rows too short for this order adds no key to it
                    sketches[o].MergeBlock(rowBase + f0, w, token, neuron, ngrams[o]);
            f0 = f1;
        }
    }

    /// <summary>Counts up to this are read from a per-row histogram; a row whose cut reaches it is sorted instead.</summary>
    internal const int HistogramBins = 64;

    /// <summary>
    /// <see cref="NgramSketch.Merge"/> for rows row0 … row0+w-1 at once. Event i is neuron row0 + neuron[i] active at
    /// counted token token[i]. Every row of the block is rewritten; a row with no new key is rewritten as it was. The
    /// only sorts are of the events' int32 codes and, where a row's cut passes <see cref="HistogramBins"/>, of that
    /// row's entries; the host waits for the device twice (the number of distinct pairs, and whether any row's cut
    /// passes that bound). Each stage's temporaries die at its end, and most operations work in place, which keeps the
    /// peak within <see cref="StepBytesPerEntry"/>.
    /// </summary>
    void MergeBlock(int row0, int w, Tensor token, Tensor neuron, DeviceNgrams ngrams)
    {
        using var scope = NewDisposeScope();
        using var c = new ScalarScope();   // every Scalar held until the merge ends (see Scalars)
        long k = Capacity, r = ngrams.Count, span = 1L << KeyBits, wk = w * k;
        var device = keys.device;
        var keyBlock = keys.narrow(0, row0, w).view(-1);       // [w·K]
        var countBlock = counts.narrow(0, row0, w).view(-1);   // [w·K]
        var slotRow = arange(c[0], c[w], c[1], ScalarType.Int64, device).unsqueeze(1).expand(w, k).reshape(-1);   // the row of each slot

        // 1. The batch's entries (list A): distinct (neuron f, key rank) pairs as codes f·R + rank, in increasing order,
        // so in (neuron, key) order (ranks order like keys), with how often each occurred. Tokens that end no n-gram of
        // this order get code w·R, past every pair: its entry is given count 0, so it neither counts nor survives, and
        // sits in row w, a spare row of every per-row table below.
        Tensor pairs, aRow, aCount, aKey, aCode;
        using (var stage = NewDisposeScope())
        {
            var rank = ngrams.Ranks.index_select(0, token);
            var code = neuron.mul(c[r]).add_(rank, One).masked_fill_(rank.lt(Zero), c[w * r]);
            (pairs, _, var occurred) = code.unique(sorted: true, return_counts: true);
            aRow = pairs.div(c[r], RoundingMode.floor).to(ScalarType.Int64);   // 0 … w
            var spare = aRow.eq(c[w]);
            aCount = occurred!.masked_fill_(spare, Zero);
            aKey = ngrams.Distinct.index_select(0, pairs.remainder(c[r]).to(ScalarType.Int64));
            // (neuron, key) codes, increasing: below w·2^KeyBits ≤ 2^63 (UpdateLayer), the spare entry's the largest int64.
            aCode = aRow.clamp_max(c[w - 1]).mul_(c[span]).add_(aKey, One).masked_fill_(spare, c[long.MaxValue]);
            stage.MoveToOuter(pairs, aRow, aCount, aKey, aCode);
        }

        // 2. A stored entry whose key the batch has for the same neuron joins that entry's count and leaves its slot. The
        // others stay (list B: the slots in order, so keys increase within each row; count 0 where unused or left).
        var storedCount = countBlock.to(ScalarType.Int64);
        var used = storedCount.gt(Zero);
        using (var stage = NewDisposeScope())
        {
            var rankOf = searchsorted(ngrams.Distinct, keyBlock).clamp_max_(c[r - 1]);
            var joins = ngrams.Distinct.index_select(0, rankOf).eq(keyBlock).logical_and_(used);
            var storedPair = slotRow.mul(c[r]).add_(rankOf, One).to(ScalarType.Int32);
            var match = searchsorted(pairs, storedPair).clamp_max_(c[pairs.shape[0] - 1]);
            joins.logical_and_(pairs.index_select(0, match).eq(storedPair));
            aCount.index_add_(0, match, storedCount.masked_fill(joins.logical_not(), Zero), One);
            storedCount.masked_fill_(joins, Zero);
        }
        var bCount = storedCount;

        // 3. Each row's cut, the (K+1)-th largest count of its entries (0 with at most K), from a histogram of counts
        // capped at HistogramBins: the number of c = 1 … bins that more than K entries reach. Rows where all of them do
        // may cut higher, and are sorted.
        Tensor cut;
        using (var stage = NewDisposeScope())
        {
            long bins = HistogramBins + 1;
            var histogram = zeros((w + 1) * bins, ScalarType.Int64, device);
            histogram.index_add_(0, aCount.clamp_max(c[HistogramBins]).add_(aRow.mul(c[bins]), One), ones_like(aRow), One);
            histogram.index_add_(0, bCount.clamp_max(c[HistogramBins]).add_(slotRow.mul(c[bins]), One), ones_like(slotRow), One);
            var reaching = histogram.view(w + 1, bins).narrow(1, 1, HistogramBins).flip(1).cumsum(1).flip(1);   // entries ≥ 1, ≥ 2, …
            cut = reaching.gt(c[k]).sum(1, type: ScalarType.Int64);
            var high = cut.eq(c[HistogramBins]).nonzero().squeeze(1);
            if (high.shape[0] > 0) cut.index_copy_(0, high, ExactCuts(high, w, aRow, aCount, bCount, c));
            stage.MoveToOuter(cut);
        }

        // 4. What stays positive after the cut (at most K per row) fills the row's first slots in key order: an entry's
        // slot is the number of its row's survivors before it in its own list plus those of the other list with a
        // smaller key. Codes (row, key) increase over both lists, unused slots taking their row's largest code.
        var aLeft = aCount.sub_(cut.index_select(0, aRow));
        var bLeft = bCount.sub_(cut.index_select(0, slotRow));
        Tensor target;
        using (var stage = NewDisposeScope())
        {
            var aBefore = CountBefore(aLeft.gt(Zero));   // [A+1]: A's survivors before each index
            var bBefore = CountBefore(bLeft.gt(Zero));   // [w·K+1]
            var bCode = keyBlock.masked_fill(used.logical_not_(), c[span - 1]).add_(slotRow.mul(c[span]), One);
            var rowFirst = cat([arange(c[0], c[w], c[1], ScalarType.Int64, device).mul_(c[span]), full(1, long.MaxValue, ScalarType.Int64, device)]);
            var aStart = searchsorted(aCode, rowFirst);   // [w+1]: each row's first A index
            var aSlot = aBefore.narrow(0, 0, aCode.shape[0]) - aBefore.index_select(0, aStart.index_select(0, aRow));
            aSlot.add_(bBefore.index_select(0, searchsorted(bCode, aCode)), One).sub_(bBefore.index_select(0, aRow.mul(c[k])));
            var bSlot = bBefore.narrow(0, 0, wk) - bBefore.index_select(0, slotRow.mul(c[k]));
            bSlot.add_(aBefore.index_select(0, searchsorted(aCode, bCode)), One).sub_(aBefore.index_select(0, aStart.index_select(0, slotRow)));
            // Survivors to their slots, the rest to one slot past the block's, dropped.
            target = cat([aSlot.add_(aRow.mul(c[k]), One).masked_fill_(aLeft.le(Zero), c[wk]),
                          bSlot.add_(slotRow.mul(c[k]), One).masked_fill_(bLeft.le(Zero), c[wk])]);
            stage.MoveToOuter(target);
        }
        var newKeys = full(wk + 1, -1L, ScalarType.Int64, device).index_copy_(0, target, cat([aKey, keyBlock]));
        var newCounts = zeros(wk + 1, ScalarType.Int64, device).index_copy_(0, target, cat([aLeft, bLeft]));
        keyBlock.copy_(newKeys.narrow(0, 0, wk));
        countBlock.copy_(newCounts.narrow(0, 0, wk));
        errors.narrow(0, row0, w).add_(cut.narrow(0, 0, w), One);
    }

    /// <summary>
    /// The (K+1)-th largest count of each row in <paramref name="high"/>, all of which have more than K entries: one sort
    /// of those rows' entries by (row, count descending). Counts are below 2^31, so r·2^31 + (2^31 - 1 - count) &lt; 2^62
    /// orders that way, and the count is read back from the sorted code.
    /// </summary>
    Tensor ExactCuts(Tensor high, int w, Tensor aRow, Tensor aCount, Tensor bCount, ScalarScope c)
    {
        long h = high.shape[0], k = Capacity;
        var device = high.device;
        var local = arange(c[0], c[h], c[1], ScalarType.Int64, device);
        var indexOf = full(w + 1, -1L, ScalarType.Int64, device).index_copy_(0, high, local);   // row → its index in high, or -1
        var aLocal = indexOf.index_select(0, aRow);
        var picked = aLocal.ge(Zero).nonzero().squeeze(1);
        var entryRow = cat([aLocal.index_select(0, picked), local.unsqueeze(1).expand(h, k).reshape(-1)]);
        var entryCount = cat([aCount.index_select(0, picked), bCount.view(w, k).index_select(0, high).reshape(-1)]);
        var byCount = entryRow.mul(c[CountLimit]).sub(entryCount).add(c[CountLimit - 1], One).sort().Values;
        var m = Occurrences(entryRow, h);
        var kthReversed = byCount.remainder(c[CountLimit]).index_select(0, (m.cumsum(0) - m).add(c[k], One));
        return kthReversed.neg().add(c[CountLimit - 1], One);   // 2^31 - 1 - count back to the count
    }

    /// <summary>
    /// How often each of 0 … width-1 occurs in <paramref name="index"/>. Unlike bincount, which reads the largest value
    /// back to size its result, it never makes the host wait for the device.
    /// </summary>
    static Tensor Occurrences(Tensor index, long width) =>
        zeros(width, ScalarType.Int64, index.device).index_add_(0, index, ones_like(index), One);

    /// <summary>[n+1]: how many of <paramref name="keep"/>[0 … i-1] are true, for i = 0 … n.</summary>
    static Tensor CountBefore(Tensor keep) =>
        cat([zeros(1, ScalarType.Int64, keep.device), keep.cumsum(0, type: ScalarType.Int64)]);

    /// <summary>A host copy, as the host path would hold it (lengths recovered from the counts).</summary>
    public NgramSketch ToHost()
    {
        var (hostKeys, hostCounts) = (new long[(long)Rows * Capacity], new int[(long)Rows * Capacity]);
        long[] hostErrors;
        using (NewDisposeScope())
        {
            // In pieces of whole rows, one piece's copies alive at a time: one tensor's bytes are read through a span
            // (at most 2 GiB).
            int rowsPerPiece = Math.Max(1, (1 << 26) / Capacity);
            for (int r0 = 0; r0 < Rows; r0 += rowsPerPiece)
            {
                using var piece = NewDisposeScope();
                int n = Math.Min(rowsPerPiece, Rows - r0);
                TensorArrays.ToArray<long>(keys.narrow(0, r0, n).cpu()).CopyTo(hostKeys, (long)r0 * Capacity);
                TensorArrays.ToArray<int>(counts.narrow(0, r0, n).cpu()).CopyTo(hostCounts, (long)r0 * Capacity);
            }
            hostErrors = TensorArrays.ToArray<long>(errors.cpu());
        }
        return new NgramSketch(Rows, Capacity, hostKeys, hostCounts, hostErrors);
    }

    /// <summary>Replaces the state with a host sketch of the same shape (a resumed run).</summary>
    public void Load(NgramSketch host)
    {
        if (host.Rows != Rows || host.Capacity != Capacity)
            throw new ArgumentException($"A sketch of {host.Rows} rows × {host.Capacity} slots does not fit {Rows} rows × {Capacity} slots.");
        using (NewDisposeScope())
        using (inference_mode(false))
        {
            int rowsPerPiece = Math.Max(1, (1 << 26) / Capacity);
            for (int r0 = 0; r0 < Rows; r0 += rowsPerPiece)
            {
                using var piece = NewDisposeScope();
                int n = Math.Min(rowsPerPiece, Rows - r0);
                var range = new Range(r0 * Capacity, (r0 + n) * Capacity);
                keys.narrow(0, r0, n).copy_(tensor(host.Keys[range], [n, Capacity]));
                counts.narrow(0, r0, n).copy_(tensor(host.Counts[range], [n, Capacity]));
            }
            errors.copy_(tensor(host.Errors));
        }
    }

    public void Dispose()
    {
        keys.Dispose();
        counts.Dispose();
        errors.Dispose();
    }
}
