using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Stats;

public sealed partial class NeuronStatsCollector
{
    /// <summary>
    /// Adds one layer's FFN activations for the current batch (the last <see cref="BeginBatch"/>): [B, T, F], the fc2
    /// input after ReLU, on any device and in any float dtype. A neuron is active where the value is &gt; 0 on a counted
    /// token. Call once per captured layer per batch, e.g. from a forward hook; all temporaries die in this call's
    /// dispose scope.
    /// </summary>
    public void Update(int layer, Tensor activations) =>
        Update(layer, activations, current ?? throw new InvalidOperationException("Update was called before BeginBatch; start every batch with BeginBatch(inputIds, attentionMask)."));

    /// <summary>
    /// Adds one layer's activations for a batch counted by <see cref="CountBatch"/>. For each layer, batches must come
    /// in the order they were counted: the n-gram summaries then evolve exactly as in batch-major order.
    /// </summary>
    public void Update(int layer, Tensor activations, CountedBatch batch)
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
        if (batch.Updated[li])
            throw new InvalidOperationException($"Layer {layer} was already updated in this batch (is its hook attached twice?).");
        batch.Updated[li] = true;
        if (b.Count == 0) return;

        using var scope = NewDisposeScope();
        var active = activations.detach().to(device).reshape(b.Batch * (long)b.Columns, ffnDim).gt(0);   // [B·T, F] bool
        if (b.Count < active.shape[0])   // keep counted tokens only; full-length batches skip the gather
            active = active.index_select(0, tensor(b.CountedFlat, device: device));                      // [N, F]
        if (positionActiveCounts is not null)
        {
            var counts = positionActiveCounts[li];
            foreach (var (start, position, length) in b.Runs())   // int32 += bool, in place
                counts.narrow(0, position, length).add_(active.narrow(0, start, length));
        }
        else
        {
            // A float32 sum of 0/1 is exact below 2^24 tokens per batch (BeginBatch checks) and on the CPU about twice
            // as fast as an integer reduction; the bool tensor is read in place, never copied to a wider type.
            activeCounts![li].add_(active.sum(0L, type: ScalarType.Float32).to(ScalarType.Int64));
        }
        if (sketches.Length == 0) return;
        // The one device→host copy per layer and batch (none on the CPU), one byte per (token, neuron), token-major as
        // computed: the summaries read it a block of neurons at a time, so it is never transposed.
        var host = active.contiguous().cpu();
        unsafe
        {
            fixed (byte* mask = host.bytes)
                SketchUpdater.UpdateLayer(sketches, options.NgramOrders, b.DistinctKeys, b.KeyRanks, mask, b.Count, ffnDim, li * ffnDim);
        }
    }

    /// <summary>A CPU snapshot of everything counted so far; the collector can keep counting afterwards.</summary>
    public NeuronStats Result(StatsSource? source = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
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
        return new NeuronStats(manifest, active, positions, (long[])positionTokenCounts.Clone(),
            occurrences, sketches.Select(s => s.Clone()).ToArray());
    }

    /// <summary>[L, F] int64 active counts on the device: a new tensor where derived from per-position counts.</summary>
    Tensor ActiveCounts() => positionActiveCounts?.sum(1L, type: ScalarType.Int64) ?? activeCounts!;

    /// <summary>Frees the device accumulators.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        activeCounts?.Dispose();
        positionActiveCounts?.Dispose();
    }
}
