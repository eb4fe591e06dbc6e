using TorchSharp;
using static TorchSharp.torch;
using OptNeurons.Runtime;
using static OptNeurons.Runtime.Scalars;

namespace OptNeurons.Stats;

/// <summary>
/// The Misra–Gries summaries of one n-gram order (<see cref="NgramSketch"/>'s layout and merge rule, byte for byte) as
/// tensors on the collector's device: keys [R, K] int64 (-1 unused), counts [R, K] int32 (0 unused), errors [R] int64,
/// R = layers · F. They are updated with tensor operations, so a GPU collector never copies an activity mask to the
/// host. Per block of neurons, for all orders at once, the work is one sort of the batch's (order, neuron, n-gram)
/// pairs as int32 codes; the stored entries, already in key order, are matched to them by binary search, and each
/// row's cut is read from a histogram of its counts. A step waits for the device only where a result's size depends
/// on the data: its active pairs, its distinct pairs, and the rows whose cut needs a sort.
/// Memory: 12·K + 8 bytes per row on the device (the host sketch's lengths are recovered from the counts), plus an
/// update's temporaries (<see cref="StepBytesPerEntry"/>).
/// </summary>
internal sealed class DeviceSketches : IDisposable
{
    /// <summary>
    /// Default bound on the entries one step of <see cref="UpdateLayer"/> handles: per order, active (token, neuron)
    /// pairs plus K stored slots per neuron of its block. An OPT-1.3b-wide layer (8,192 neurons) at 5 % activity over
    /// 8,192 tokens takes two steps with three orders.
    /// </summary>
    public const long DefaultStepEntries = 1L << 23;

    /// <summary>
    /// Estimate of the device bytes one step takes per entry (see <see cref="DefaultStepEntries"/>): counted from the
    /// tensors alive at a step's peak (the last stage of <see cref="MergeBlock"/>), about 140 bytes per entry, with a
    /// margin for the allocator. 2^23 entries: about 1.7 GB.
    /// </summary>
    public const long StepBytesPerEntry = 200;

    const long CountLimit = 1L << 31;   // every count is below this: the collector refuses more than int.MaxValue tokens

    readonly Tensor keys, counts, errors;

    public int Rows { get; }
    public int Capacity { get; }

    public DeviceSketches(int rows, int capacity, Device device)
    {
        NgramSketch.CheckSize(rows, capacity);
        (Rows, Capacity) = (rows, capacity);
        // Like the collector's other accumulators: normal tensors that outlive every caller's dispose scope.
        using (inference_mode(false))
        {
            keys = full(rows, capacity, -1L, ScalarType.Int64, device).DetachFromDisposeScope();
            counts = zeros(rows, capacity, ScalarType.Int32, device).DetachFromDisposeScope();
            errors = zeros(rows, ScalarType.Int64, device).DetachFromDisposeScope();
        }
    }

    /// <summary>
    /// Adds one layer's activity in one batch to every order's summaries (<paramref name="sketches"/>, one per tracked
    /// order): <paramref name="active"/> is the [N, F] bool mask of the batch's counted tokens, <paramref name="ngrams"/>
    /// the batch's n-grams, <paramref name="rowBase"/> the row of the layer's neuron 0. All orders are updated together,
    /// so the number of tensor operations does not grow with them. Neurons are taken in blocks whose active pairs plus
    /// stored slots (K per neuron), over all orders, stay within <paramref name="stepEntries"/> (a neuron with more
    /// takes a step alone), which bounds the temporaries; neurons that never fire are skipped, as their rows get no
    /// new key. A block is also narrow enough for its (order, neuron, n-gram) codes to fit in int32, and for its
    /// tokens × neurons to stay below 2^31.
    /// </summary>
    public static void UpdateLayer(DeviceSketches[] sketches, DeviceNgrams ngrams, Tensor active, int rowBase, long stepEntries)
    {
        if (ngrams.Live.Length == 0) return;   // rows too short for any tracked order: no key to add
        int neurons = (int)active.shape[1], orders = ngrams.Live.Length;
        long k = sketches[0].Capacity, perRank = (long)orders * (ngrams.MaxCount + 1);
        if (perRank > int.MaxValue)
            throw new InvalidOperationException($"A batch with {ngrams.MaxCount:N0} distinct n-grams of one order is too many for the summaries' int32 codes; use smaller batches.");
        // Also fewer than 2^31 (token, neuron) cells per block, each step's nonzero input: below the size some CUDA builds
        // of nonzero refuse, and a bound on the block's copy of the mask.
        int maxWidth = (int)Math.Max(1, Math.Min(int.MaxValue / perRank, int.MaxValue / Math.Max(1, active.shape[0])));
        long[] fired;   // active tokens per neuron: one small copy to the host per layer, to plan the steps
        using (NewDisposeScope())
        {
            var perNeuron = zeros(neurons, ScalarType.Int64, active.device);
            NeuronStatsCollector.AddSums(perNeuron, active);   // summed in bytes: no int64 copy of the mask
            fired = TensorArrays.ToArray<long>(perNeuron.cpu());
        }
        for (int f0 = 0; f0 < neurons;)
        {
            if (fired[f0] == 0) { f0++; continue; }
            int f1 = f0 + 1;
            for (long size = orders * (fired[f0] + k); f1 < neurons && f1 - f0 < maxWidth && size + orders * (fired[f1] + k) <= stepEntries; f1++)
                size += orders * (fired[f1] + k);
            using var scope = NewDisposeScope();
            using var c = new ScalarScope();   // every Scalar held until the step ends (see Scalars)
            int w = f1 - f0;
            // Each active (token j, neuron f) of the block as j·w + f: below N·w, at most N·F < 2^62.
            var events = active.narrow(1, f0, w).reshape(-1).nonzero().squeeze(1);
            var token = events.div(c[w], RoundingMode.floor);
            var neuron = events.remainder(c[w]).to(ScalarType.Int32);
            MergeBlock(sketches, ngrams, rowBase + f0, w, token, neuron);
            f0 = f1;
        }
    }

    /// <summary>Counts up to this are read from a per-row histogram; a row whose cut reaches it is sorted instead.</summary>
    internal const int HistogramBins = 64;

    /// <summary>
    /// <see cref="NgramSketch.Merge"/> for rows row0 … row0+w-1 of every order with n-grams in the batch, at once: the
    /// block's rows are those orders' rows one after another, row i·w + f being neuron row0 + f of the i-th (see
    /// <see cref="DeviceNgrams.Live"/>). Event j is neuron row0 + neuron[j] active at counted token token[j]. Every row
    /// is rewritten; a row with no new key is rewritten as it was. Keys are compared through their rank among the
    /// batch's distinct n-grams of their order. The only sorts are of the events' int32 codes and, where a row's cut
    /// passes <see cref="HistogramBins"/>, of that row's entries; the host waits for the device twice (the number of
    /// distinct pairs, and whether any row's cut passes that bound), and once more where one does. Each stage's temporaries die at its end, and most
    /// operations work in place, which keeps the peak within <see cref="StepBytesPerEntry"/>.
    /// </summary>
    static void MergeBlock(DeviceSketches[] sketches, DeviceNgrams ngrams, int row0, int w, Tensor token, Tensor neuron)
    {
        using var scope = NewDisposeScope();
        using var c = new ScalarScope();   // every Scalar held until the merge ends (see Scalars)
        var live = ngrams.Live.Select(o => sketches[o]).ToArray();
        int orders = live.Length;
        long k = live[0].Capacity, r = ngrams.MaxCount, rows = orders * (long)w, slots = rows * k;
        long between = 2 * r + 2;   // per row in the (row, key) codes of stage 4
        var device = token.device;
        var keyBlock = cat(live.Select(s => s.keys.narrow(0, row0, w).view(-1)).ToArray());   // [rows·K]: copies
        var countBlock = cat(live.Select(s => s.counts.narrow(0, row0, w).view(-1)).ToArray());
        var slotRow = arange(c[0], c[rows], c[1], ScalarType.Int64, device).unsqueeze(1).expand(rows, k).reshape(-1);   // the row of each slot

        // 1. The batch's entries (list A): distinct (row, key rank) pairs as codes row·R + rank, R the most distinct
        // n-grams of an order, in increasing order, so in (row, key) order (ranks order like keys), with how often each
        // occurred. Tokens that end no n-gram of an order get code rows·R, past every pair: its entry is given count 0,
        // so it neither counts nor survives, and sits in row `rows`, a spare row of every per-row table below.
        Tensor pairs, aRow, aRank, aCount, aKey;
        using (var stage = NewDisposeScope())
        {
            var codes = new Tensor[orders];
            for (int i = 0; i < orders; i++)
            {
                var rank = ngrams.Ranks[i].index_select(0, token);
                codes[i] = neuron.add(c[i * (long)w]).mul_(c[r]).add_(rank, One).masked_fill_(rank.lt(Zero), c[rows * r]);
            }
            (pairs, _, var occurred) = (orders == 1 ? codes[0] : cat(codes)).unique(sorted: true, return_counts: true);
            aRow = pairs.div(c[r], RoundingMode.floor).to(ScalarType.Int64);   // 0 … rows
            aRank = pairs.remainder(c[r]).to(ScalarType.Int64);
            var spare = aRow.eq(c[rows]);
            aCount = occurred!.masked_fill_(spare, Zero);
            var order = aRow.div(c[w], RoundingMode.floor).clamp_max_(c[orders - 1]);
            aKey = ngrams.Keys.index_select(0, ngrams.Offsets.index_select(0, order).add_(aRank, One))
                .sub_(order.mul_(c[1L << DeviceNgrams.TagBits]));   // the order's tag taken off
            stage.MoveToOuter(pairs, aRow, aRank, aCount, aKey);
        }

        // 2. A stored entry whose key the batch has for the same neuron and order joins that entry's count and leaves its
        // slot. The others stay (list B: the slots in order, so keys increase within each row; count 0 where unused or
        // left). Where a stored key falls among the batch's keys of its order, `place`, orders it against list A.
        var storedCount = countBlock.to(ScalarType.Int64);
        var used = storedCount.gt(Zero);
        Tensor place;
        using (var stage = NewDisposeScope())
        {
            var slotOrder = slotRow.div(c[w], RoundingMode.floor);
            var tagged = slotOrder.mul(c[1L << DeviceNgrams.TagBits]).add_(keyBlock, One);
            var at = searchsorted(ngrams.Keys, tagged);   // the tagged keys below it, all orders
            var joins = ngrams.Keys.index_select(0, at.clamp_max(c[ngrams.Keys.shape[0] - 1])).eq(tagged).logical_and_(used);
            var below = at.sub_(ngrams.Offsets.index_select(0, slotOrder));   // its order's batch keys below it
            var storedPair = slotRow.mul(c[r]).add_(below, One).to(ScalarType.Int32);
            var match = searchsorted(pairs, storedPair).clamp_max_(c[pairs.shape[0] - 1]);
            joins.logical_and_(pairs.index_select(0, match).eq(storedPair));
            aCount.index_add_(0, match, storedCount.masked_fill(joins.logical_not(), Zero), One);
            storedCount.masked_fill_(joins, Zero);
            // Twice the batch keys below it; unused slots last in their row.
            place = below.mul_(c[2]).masked_fill_(used.logical_not(), c[between - 1]);
            stage.MoveToOuter(place);
        }
        var bCount = storedCount;

        // 3. Each row's cut, the (K+1)-th largest count of its entries (0 with at most K), from a histogram of counts
        // capped at HistogramBins: the number of c = 1 … bins that more than K entries reach. Rows where all of them do
        // may cut higher, and are sorted.
        Tensor cut;
        using (var stage = NewDisposeScope())
        {
            long bins = HistogramBins + 1;
            var histogram = zeros((rows + 1) * bins, ScalarType.Int64, device);
            histogram.index_add_(0, aCount.clamp_max(c[HistogramBins]).add_(aRow.mul(c[bins]), One), ones_like(aRow), One);
            histogram.index_add_(0, bCount.clamp_max(c[HistogramBins]).add_(slotRow.mul(c[bins]), One), ones_like(slotRow), One);
            var reaching = histogram.view(rows + 1, bins).narrow(1, 1, HistogramBins).flip(1).cumsum(1).flip(1);   // entries ≥ 1, ≥ 2, …
            cut = reaching.gt(c[k]).sum(1, type: ScalarType.Int64);
            var high = cut.eq(c[HistogramBins]).nonzero().squeeze(1);
            if (high.shape[0] > 0) cut.index_copy_(0, high, ExactCuts(high, rows, k, aRow, aCount, bCount, c));
            stage.MoveToOuter(cut);
        }

        // 4. What stays positive after the cut (at most K per row) fills the row's first slots in key order: an entry's
        // slot is the number of its row's survivors before it in its own list plus those of the other list with a
        // smaller key. Codes row·(2R + 2) + place increase along both lists and order them against each other: a batch
        // key of rank q has place 2q + 1, and a stored key with q batch keys below it 2q. (A stored key that is itself
        // the batch key of rank q is in list B only if the row has no entry of rank q in list A.)
        var aLeft = aCount.sub_(cut.index_select(0, aRow));
        var bLeft = bCount.sub_(cut.index_select(0, slotRow));
        Tensor target;
        using (var stage = NewDisposeScope())
        {
            var aBefore = CountBefore(aLeft.gt(Zero));   // [A+1]: A's survivors before each index
            var bBefore = CountBefore(bLeft.gt(Zero));   // [rows·K+1]
            var aCode = aRow.mul(c[between]).add_(aRank.mul_(c[2]).add_(c[1], One), One);   // the spare's: rows·(2R + 2) + 1
            var bCode = slotRow.mul(c[between]).add_(place, One);
            var aStart = searchsorted(aCode, arange(c[0], c[rows + 1], c[1], ScalarType.Int64, device).mul_(c[between]));   // each row's first A index
            var aSlot = aBefore.narrow(0, 0, aCode.shape[0]) - aBefore.index_select(0, aStart.index_select(0, aRow));
            aSlot.add_(bBefore.index_select(0, searchsorted(bCode, aCode)), One).sub_(bBefore.index_select(0, aRow.mul(c[k])));
            var bSlot = bBefore.narrow(0, 0, slots) - bBefore.index_select(0, slotRow.mul(c[k]));
            bSlot.add_(aBefore.index_select(0, searchsorted(aCode, bCode)), One).sub_(aBefore.index_select(0, aStart.index_select(0, slotRow)));
            // Survivors to their slots, the rest to one slot past the block's, dropped.
            target = cat([aSlot.add_(aRow.mul(c[k]), One).masked_fill_(aLeft.le(Zero), c[slots]),
                          bSlot.add_(slotRow.mul(c[k]), One).masked_fill_(bLeft.le(Zero), c[slots])]);
            stage.MoveToOuter(target);
        }
        var newKeys = full(slots + 1, -1L, ScalarType.Int64, device).index_copy_(0, target, cat([aKey, keyBlock]));
        var newCounts = zeros(slots + 1, ScalarType.Int64, device).index_copy_(0, target, cat([aLeft, bLeft]));
        for (int i = 0; i < orders; i++)
        {
            live[i].keys.narrow(0, row0, w).view(-1).copy_(newKeys.narrow(0, i * w * k, w * k));
            live[i].counts.narrow(0, row0, w).view(-1).copy_(newCounts.narrow(0, i * w * k, w * k));
            live[i].errors.narrow(0, row0, w).add_(cut.narrow(0, i * (long)w, w), One);
        }
    }

    /// <summary>
    /// The (K+1)-th largest count of each row in <paramref name="high"/>, all of which have more than K entries: one sort
    /// of those rows' entries by (row, count descending). Counts are below 2^31, so r·2^31 + (2^31 - 1 - count) &lt; 2^62
    /// orders that way, and the count is read back from the sorted code.
    /// </summary>
    static Tensor ExactCuts(Tensor high, long rows, long k, Tensor aRow, Tensor aCount, Tensor bCount, ScalarScope c)
    {
        long h = high.shape[0];
        var device = high.device;
        var local = arange(c[0], c[h], c[1], ScalarType.Int64, device);
        var indexOf = full(rows + 1, -1L, ScalarType.Int64, device).index_copy_(0, high, local);   // row → its index in high, or -1
        var aLocal = indexOf.index_select(0, aRow);
        var picked = aLocal.ge(Zero).nonzero().squeeze(1);
        var entryRow = cat([aLocal.index_select(0, picked), local.unsqueeze(1).expand(h, k).reshape(-1)]);
        var entryCount = cat([aCount.index_select(0, picked), bCount.view(rows, k).index_select(0, high).reshape(-1)]);
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
