using TorchSharp;
using static TorchSharp.torch;
using static OptNeurons.Runtime.Scalars;

namespace OptNeurons.Stats;

public sealed partial class NeuronStatsCollector
{
    /// <summary>
    /// Adds one layer's FFN activations for the current batch (the last <see cref="BeginBatch"/>): [B, T, F], the fc2
    /// input after ReLU, on any device and in any float dtype. A neuron is active where the value is &gt; 0 on a counted
    /// token; as values after a ReLU are never negative, that is where it is nonzero, the cheaper test. The first update
    /// of a collector checks that its values are ≥ 0 (not NaN), so pre-ReLU values are refused rather than miscounted.
    /// Every update is checked for NaN and ∞ (a half-precision overflow, say), which would pass the nonzero test: the
    /// next <see cref="CountBatch"/> or <see cref="Result"/> throws, so no saved result ever holds such counts.
    /// Call once per captured layer per batch, e.g. from a forward hook; all temporaries die in this call's dispose
    /// scope.
    /// </summary>
    public void Update(int layer, Tensor activations) =>
        Update(layer, activations, current ?? throw new InvalidOperationException("Update was called before BeginBatch; start every batch with BeginBatch(inputIds, attentionMask)."));

    /// <summary>
    /// Adds one layer's activations for a batch counted by <see cref="CountBatch"/>. For each layer, batches must come
    /// in the order they were counted: the n-gram summaries then evolve exactly as in batch-major order.
    /// </summary>
    public void Update(int layer, Tensor activations, CountedBatch batch)
    {
        countingClock.Start();
        try { AddLayer(layer, activations, batch); }
        finally { countingClock.Stop(); }
    }

    void AddLayer(int layer, Tensor activations, CountedBatch batch)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Owner != this) throw new ArgumentException("This batch was counted by another collector.", nameof(batch));
        var b = batch.Layout;
        if (!layerIndex.TryGetValue(layer, out int li))
            throw new ArgumentException($"Layer {layer} is not captured; this collector captures layers [{string.Join(", ", layers)}].");
        long[] expected = [b.Batch, b.Columns, ffnDim];
        if (!activations.shape.SequenceEqual(expected))
            throw new ArgumentException($"Activations of layer {layer} have shape [{string.Join(", ", activations.shape)}]; expected [{string.Join(", ", expected)}] ([B, T, ffnDim]).");
        if (!checkedNonNegative && activations.numel() > 0) CheckNonNegative(layer, activations);
        if (batch.Updated[li])
            throw new InvalidOperationException($"Layer {layer} was already updated in this batch (is its hook attached twice?).");
        batch.Updated[li] = true;
        if (b.Count == 0) return;
        try { AddActivity(li, activations, batch); }
        finally
        {
            if (Array.TrueForAll(batch.Updated, u => u)) batch.ReleaseDevice();   // the batch's last layer
        }
    }

    void AddActivity(int li, Tensor activations, CountedBatch batch)
    {
        var b = batch.Layout;
        using var scope = NewDisposeScope();
        // Values after a ReLU are ≥ 0 or NaN, so their sum is finite exactly when every value is: one reduction per layer,
        // read back only at the next batch, so a GPU does not wait here.
        nonFinite.narrow(0, li, 1).add_(activations.detach().sum(ScalarType.Float32).isfinite().logical_not().to(ScalarType.Int64).to(device), One);
        // A cast to bool tests "nonzero" in one vectorised pass, about 3× faster than a comparison with 0 on the CPU.
        var mask = activations.detach().to(device).to(ScalarType.Bool);   // [B, T, F]
        foreach (var (row, column, position, length, rows) in b.Rectangles)
        {
            var tokens = mask.narrow(0, row, rows).narrow(1, column, length);   // [rows, length, F], in place
            if (positionActiveCounts is not null) AddSums(positionActiveCounts[li].narrow(0, position, length), tokens);
            else AddSums(activeCounts![li], tokens);
        }
        if (options.NgramOrders.Count == 0) return;
        var onDevice = batch.OnDevice ??= new DeviceBatch(b, deviceSketches.Length > 0 ? options.NgramOrders : [], device);
        var active = mask.reshape(b.Batch * (long)b.Columns, ffnDim);   // [B·T, F]: a copy only where the activations were not laid out row-major
        if (onDevice.Counted is { } counted)   // the n-gram summaries take the counted tokens only; full-length batches skip the gather
            active = active.index_select(0, counted);                 // [N, F]
        if (deviceSketches.Length > 0)
        {
            // The summaries are updated where the mask is, from the batch's n-grams uploaded by its first layer.
            DeviceSketches.UpdateLayer(deviceSketches, onDevice.Ngrams!, active, li * ffnDim, sketchStep);
            return;
        }
        // Otherwise the one device→host copy per layer and batch (none on the CPU), one byte per (token, neuron),
        // token-major as computed: the summaries read it a block of neurons at a time, so it is never transposed.
        var host = active.contiguous().cpu();
        unsafe
        {
            fixed (byte* bytes = host.bytes)
                SketchUpdater.UpdateLayer(sketches, options.NgramOrders, b.DistinctKeys, b.KeyRanks, bytes, b.Count, ffnDim, li * ffnDim);
        }
    }

    /// <summary>
    /// target += mask summed over its leading dimensions (those target lacks). The innermost of them is summed 255 at a
    /// time in uint8, which cannot overflow and is several times faster on the CPU than a wider reduction of a bool
    /// tensor (3 ms against 9–16 ms for [4096, 3072] on two cores); those sums are then added up in the target's type.
    /// At most four kernels whatever the size, so a GPU does not pay a launch per block. (A bool tensor summed straight
    /// into a wider type is first copied whole into that type, 8 bytes per element for int64.)
    /// </summary>
    internal static void AddSums(Tensor target, Tensor mask)
    {
        const long ExactInByte = 255;
        int d = (int)(mask.ndim - target.ndim) - 1;   // the innermost summed dimension
        long[] outer = Enumerable.Range(0, d + 1).Select(i => (long)i).ToArray();
        long n = mask.shape[d], whole = n / ExactInByte * ExactInByte;
        if (whole > 0)
        {
            long[] blocks = [.. mask.shape[..d], whole / ExactInByte, ExactInByte, .. mask.shape[(d + 1)..]];
            var bytes = mask.narrow(d, 0, whole).view(blocks).sum(d + 1, type: ScalarType.Byte);
            target.add_(bytes.sum(outer, type: target.dtype), One);   // a held alpha: see Scalars
        }
        if (n > whole)
        {
            var bytes = mask.narrow(d, whole, n - whole).sum(d, type: ScalarType.Byte);
            target.add_(d == 0 ? bytes : bytes.sum(outer[..d], type: target.dtype), One);
        }
    }

    /// <summary>Refuses activations with a negative or NaN value: they are not the output of a ReLU.</summary>
    void CheckNonNegative(int layer, Tensor activations)
    {
        double min;
        using (NewDisposeScope()) min = activations.min().to(ScalarType.Float64).item<double>();
        if (!(min >= 0))
            throw new ArgumentException($"Activations of layer {layer} hold {(double.IsNaN(min) ? "NaN" : $"a negative value ({min})")}; " +
                                        "the collector takes the fc2 input after the ReLU, where every value is ≥ 0.");
        checkedNonNegative = true;
    }

    /// <summary>
    /// Throws where an update's activations held NaN or ∞: cast to a mask they would count as firing everywhere. A
    /// float16 forward pass overflows to ∞ where float32 does not, and NaN follows.
    /// </summary>
    void ThrowIfNonFinite()
    {
        long[] updates;
        using (NewDisposeScope()) updates = TensorArrays.ToArray<long>(nonFinite.cpu());
        var bad = layers.Where((_, i) => updates[i] > 0).ToArray();
        if (bad.Length > 0)
            throw new InvalidDataException($"The activations of layer{(bad.Length > 1 ? "s" : "")} {string.Join(", ", bad)} held NaN or infinity, " +
                                           "which no count can take (an overflow of the forward pass in half precision? count in float32, --dtype float32). " +
                                           "No result that includes them is saved.");
    }

    /// <summary>A CPU snapshot of everything counted so far; the collector can keep counting afterwards.</summary>
    public NeuronStats Result(StatsSource? source = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ThrowIfNonFinite();
        source ??= StatsSource.Unknown;
        var manifest = new StatsManifest
        {
            Model = source.Model, ConfigHash = source.ConfigHash, Revision = source.Revision, Data = source.Data, Seed = source.Seed,
            TokenCount = tokenCount, SequenceCount = sequenceCount, Layers = layers.ToArray(), FfnDim = ffnDim,
            MaxLength = maxLength, VocabSize = vocabSize, Options = options,
        };
        long[] active;
        int[][]? positions = null;
        using (NewDisposeScope())
        {
            active = TensorArrays.ToArray<long>(ActiveCounts().cpu());
            if (positionActiveCounts is not null)
            {
                var cpu = positionActiveCounts.cpu();
                positions = Enumerable.Range(0, layers.Length).Select(l => TensorArrays.ToArray<int>(cpu[l])).ToArray();
            }
        }
        var occurrences = options.NgramOrders.Select(n => n == 1
            ? OccurrenceTable.Unigrams((long[])unigrams.Clone())
            : OccurrenceTable.FromDictionary(n, sparse[n - 1])).ToArray();
        var summaries = deviceSketches.Length > 0 ? deviceSketches.Select(s => s.ToHost()) : sketches.Select(s => s.Clone());
        return new NeuronStats(manifest, active, positions, (long[])positionTokenCounts.Clone(), occurrences, summaries.ToArray());
    }

    /// <summary>[L, F] int64 active counts on the device: a new tensor where derived from per-position counts.</summary>
    Tensor ActiveCounts() => positionActiveCounts?.sum(1L, type: ScalarType.Int64) ?? activeCounts!;

    /// <summary>Frees the device accumulators and summaries.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        activeCounts?.Dispose();
        positionActiveCounts?.Dispose();
        nonFinite?.Dispose();
        foreach (var s in deviceSketches) s.Dispose();
        current?.ReleaseDevice();
    }
}
