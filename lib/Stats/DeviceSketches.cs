using TorchSharp;
using static TorchSharp.torch;
using OptNeurons.Runtime;
using static OptNeurons.Runtime.Scalars;

namespace OptNeurons.Stats;

/// <summary>
/// The Misra–Gries summaries of one n-gram order (<see cref="NgramSketch"/>'s layout and merge rule, byte for byte) as
/// tensors on the collector's device: keys [R, K] int64 (-1 unused), counts [R, K] int32 (0 unused), errors [R] int64,
/// R = layers · F. They are updated with tensor operations, so a GPU collector never copies an activity mask to the
/// host; the work per layer is a few sorts of the layer's stored and new entries instead of a loop over neurons. A
/// step waits for the device only where a result's size depends on the data (three nonzero and one unique per order).
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
    /// Estimate of the device bytes one step takes per entry (see <see cref="DefaultStepEntries"/>): the tensors alive
    /// at a step's peak were measured at up to about 150 bytes per entry (random data on the CPU, K = 4 … 128, density
    /// 0.05 … 1), and sorts need some workspace besides. 2^22 entries: about 0.8 GB.
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
    /// mask of the batch's counted tokens, <paramref name="rowBase"/> the row of the layer's neuron 0. Neurons are taken
    /// in blocks whose active pairs plus stored slots (K per neuron) stay within <paramref name="stepEntries"/> (a
    /// neuron with more takes a step alone), which bounds the temporaries; neurons that never fire are skipped, as their
    /// rows get no new key. A block also has fewer than 2^(63 - key bits) neurons (4,096 with trigrams), so that a
    /// (neuron in block, key) pair packs into one int64 (<see cref="MergeBlock"/>).
    /// </summary>
    public static void UpdateLayer(DeviceSketches[] sketches, IReadOnlyList<Tensor> tokenKeys, Tensor active, int rowBase, long stepEntries)
    {
        int neurons = (int)active.shape[1];
        long k = sketches[0].Capacity;
        int maxWidth = (int)Math.Min(int.MaxValue, 1L << (63 - sketches.Max(s => s.KeyBits)));
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
            var neuron = events.remainder(c[w]);
            for (int o = 0; o < sketches.Length; o++)
                sketches[o].MergeBlock(rowBase + f0, w, token, neuron, tokenKeys[o]);
            f0 = f1;
        }
    }

    /// <summary>
    /// <see cref="NgramSketch.Merge"/> for rows row0 … row0+width-1 at once. Event i is neuron row0 + neuron[i] active
    /// at counted token token[i]; <paramref name="tokenKeys"/>[j] is the key of the n-gram ending at token j, or -1.
    /// Every row of the block is rewritten; a row with no new key is rewritten as it was. Each stage's temporaries die
    /// at its end.
    /// </summary>
    void MergeBlock(int row0, int width, Tensor token, Tensor neuron, Tensor tokenKeys)
    {
        using var scope = NewDisposeScope();
        using var c = new ScalarScope();   // every Scalar held until the merge ends (see Scalars)
        long k = Capacity;
        var keyBlock = keys.narrow(0, row0, width).view(-1);
        var countBlock = counts.narrow(0, row0, width).view(-1);

        // 1. The stored entries (count > 0) and the batch's events (count 1 each), equal (neuron, key) pairs summed:
        // entries (mf, mk, count) in (neuron, key) order.
        Tensor mf, mk, count;
        using (var stage = NewDisposeScope())
        {
            var key = tokenKeys.index_select(0, token);
            var exists = key.ge(Zero).nonzero().squeeze(1);   // tokens too close to a sequence's start end no n-gram of this order
            if (exists.shape[0] == 0) return;   // no new key for any row of the block: all stay as they are
            key = key.index_select(0, exists);
            // Used slots as indices f·K + i.
            var slots = countBlock.nonzero().squeeze(1);
            var allF = cat([slots.div(c[k], RoundingMode.floor), neuron.index_select(0, exists)]);
            var allKey = cat([keyBlock.index_select(0, slots), key]);
            var allCount = cat([countBlock.index_select(0, slots).to(ScalarType.Int64), ones_like(key)]);
            // f·2^KeyBits + key: below 2^63, as UpdateLayer keeps width ≤ 2^(63 - KeyBits).
            long span = 1L << KeyBits;
            var (code, inverse, _) = allF.mul(c[span]).add(allKey, One).unique(sorted: true, return_inverse: true);
            count = zeros(code.shape[0], ScalarType.Int64, code.device).index_add_(0, inverse!, allCount, One);
            mf = code.div(c[span], RoundingMode.floor);   // nondecreasing: each row's entries are contiguous, in key order
            mk = code.remainder(c[span]);
            stage.MoveToOuter(mf, mk, count);
        }

        // 2. Per row m entries from start; where m > K, the cut is the (K+1)-th largest count. A sort by (neuron
        // ascending, count descending) puts it at start + K: counts are below 2^31, so f·2^31 + (2^31 - 1 - count) < 2^62
        // orders that way, and the count is read back from the sorted code.
        Tensor cut;
        using (var stage = NewDisposeScope())
        {
            var m = Occurrences(mf, width);
            var start = m.cumsum(0) - m;
            var byCount = mf.mul(c[CountLimit]).sub(count).add(c[CountLimit - 1], One).sort().Values;
            var kthReversed = byCount.remainder(c[CountLimit]).index_select(0, start.add(c[k], One).clamp_max(c[byCount.shape[0] - 1]));
            var kth = kthReversed.neg().add(c[CountLimit - 1], One);   // 2^31 - 1 - count back to the count
            cut = where(m.gt(c[k]), kth, zeros_like(kth));
            stage.MoveToOuter(cut);
        }

        // 3. Subtract, keep what stays positive (at most K per row), and write each row's survivors to its first slots.
        var left = count - cut.index_select(0, mf);
        var keep = left.gt(Zero).nonzero().squeeze(1);
        var keptF = mf.index_select(0, keep);
        var kept = Occurrences(keptF, width);
        var position = arange(c[0], c[keptF.shape[0]], c[1], ScalarType.Int64, keptF.device) - (kept.cumsum(0) - kept).index_select(0, keptF);
        var slot = keptF.mul(c[k]).add(position, One);
        keyBlock.fill_(MinusOne);
        countBlock.fill_(Zero);
        keyBlock.index_copy_(0, slot, mk.index_select(0, keep));
        countBlock.index_copy_(0, slot, left.index_select(0, keep).to(ScalarType.Int32));
        errors.narrow(0, row0, width).add_(cut, One);
    }

    /// <summary>
    /// How often each of 0 … width-1 occurs in <paramref name="index"/>. Unlike bincount, which reads the largest value
    /// back to size its result, it never makes the host wait for the device.
    /// </summary>
    static Tensor Occurrences(Tensor index, long width) =>
        zeros(width, ScalarType.Int64, index.device).index_add_(0, index, ones_like(index), One);

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
