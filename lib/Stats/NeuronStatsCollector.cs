using System.Diagnostics;
using System.Runtime.InteropServices;
using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Stats;

/// <summary>
/// Streams FFN neuron statistics (paper §3–§5) batch by batch: call <see cref="BeginBatch"/> with the model's inputs,
/// then <see cref="Update(int, Tensor)"/> from each captured layer's hook with the fc2 input (post-ReLU), then
/// <see cref="Result"/>. Layer-major callers count each batch once with <see cref="CountBatch"/> and pass its handle to
/// <see cref="Update(int, Tensor, CountedBatch)"/>; the result is the same as long as every layer sees the batches in
/// the same order. A run can continue from saved statistics (<see cref="Resume"/>).
/// Memory per neuron on the device: per-position counts 4·T bytes (8 KiB at T = 2048), or without them an exact active
/// count (8 bytes); n-gram summaries 12·K + 12 bytes per order (K = 128, n = 1, 2, 3: 4,644 bytes), in device memory on
/// a CUDA device (updated there with tensor operations, see <see cref="DeviceSketches"/>) and in host memory on the CPU.
/// Per batch and layer, about 3 device bytes per (counted token, neuron) of transient masks, plus on the CPU 1 host byte
/// for the summaries' copy, or on a CUDA device the summary update's temporaries (about 1.7 GB at most: steps of at most
/// 2^23 active (token, neuron) pairs and stored entries over all orders, about 200 bytes each). Exact n-gram occurrence tables grow with
/// the distinct n-grams seen (about 40 host bytes each). Not thread-safe: one forward pass at a time.
/// </summary>
public sealed partial class NeuronStatsCollector : IDisposable
{
    readonly StatsOptions options;
    readonly int[] layers;
    readonly Dictionary<int, int> layerIndex;
    readonly int ffnDim, maxLength, vocabSize;
    readonly Device device;
    // Exactly one of the two is kept. Every counted token has exactly one position, so with per-position counts a
    // neuron's active count is their sum over positions (ActiveCounts), which spares a column sum per layer and batch.
    readonly Tensor? activeCounts;           // [L, F] int64, without TrackPositions
    readonly Tensor? positionActiveCounts;   // [L, T, F] int32: a count per position is at most the number of sequences
    readonly Tensor nonFinite;               // [L] int64: updates whose activations held NaN or ∞ (see ThrowIfNonFinite)
    readonly long[] positionTokenCounts;
    readonly long[] unigrams;
    readonly Dictionary<long, long>[] sparse = [[], [], []];   // indexed by n-1; [0] unused
    // The n-gram summaries, one per order in options.NgramOrders: on the host, or on the device (the other array empty).
    readonly NgramSketch[] sketches;
    readonly DeviceSketches[] deviceSketches;
    readonly long sketchStep;   // entries per step of a device summary update (DeviceSketches.UpdateLayer)
    long tokenCount, sequenceCount;
    CountedBatch? current;   // the batch of BeginBatch, for Update(layer, activations)
    readonly Stopwatch countingClock = new();   // runs inside CountBatch and Update only: see CountingTime
    bool checkedNonNegative; // the first update's values were checked to be ≥ 0 (see Update)
    bool disposed;

    /// <param name="layers">Model layer numbers to capture; <see cref="Update(int, Tensor)"/> takes these numbers.</param>
    /// <param name="maxLength">T: positions 0 … T-1 are tracked; a longer sequence is refused.</param>
    /// <param name="device">
    /// Where the exact accumulators live (the device the activations come from); CPU if null. On a CUDA device the n-gram
    /// summaries live and are updated there too.
    /// </param>
    public NeuronStatsCollector(StatsOptions options, IReadOnlyList<int> layers, int ffnDim, int maxLength, int vocabSize, Device? device = null)
        : this(options, layers, ffnDim, maxLength, vocabSize, device, sketchesOnDevice: null) { }

    /// <param name="sketchesOnDevice">
    /// Keep the n-gram summaries on <paramref name="device"/> and update them with tensor operations; null: only on a
    /// CUDA device (on the CPU the host path is faster). Both give the same summaries byte for byte.
    /// </param>
    /// <param name="sketchStep">Entries per step of a device summary update (<see cref="DeviceSketches.UpdateLayer"/>): bounds its temporaries.</param>
    internal NeuronStatsCollector(StatsOptions options, IReadOnlyList<int> layers, int ffnDim, int maxLength, int vocabSize, Device? device,
                                  bool? sketchesOnDevice, long sketchStep = DeviceSketches.DefaultStepEntries)
    {
        TorchRuntime.Initialize();
        this.options = options.Validate();
        if (layers.Count == 0) throw new ArgumentException("Capture at least one layer.");
        if (layers.Any(l => l < 0) || layers.Distinct().Count() != layers.Count)
            throw new ArgumentException($"Layers [{string.Join(", ", layers)}] must be distinct and non-negative.");
        if (ffnDim <= 0 || maxLength <= 0 || vocabSize <= 0)
            throw new ArgumentException($"ffnDim ({ffnDim}), maxLength ({maxLength}) and vocabSize ({vocabSize}) must be positive.");
        if (this.options.NgramOrders.Any(n => n > 1) && vocabSize > NgramKey.MaxVocabSize)
            throw new ArgumentException($"vocabSize {vocabSize} exceeds {NgramKey.MaxVocabSize}, the most a packed bigram/trigram key holds (17 bits per token).");
        (this.layers, this.ffnDim, this.maxLength, this.vocabSize) = (layers.ToArray(), ffnDim, maxLength, vocabSize);
        layerIndex = this.layers.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i);
        this.device = device ?? CPU;
        int L = layers.Count;
        if (sketchStep < 1) throw new ArgumentOutOfRangeException(nameof(sketchStep), sketchStep, "A summary update step takes at least one entry.");
        this.sketchStep = sketchStep;
        bool onDevice = sketchesOnDevice ?? this.device.type == DeviceType.CUDA;
        if (!onDevice) CheckHostMemory(L * (long)ffnDim, this.options);
        if (this.options.NgramOrders.Count > 0) NgramSketch.CheckSize(L * ffnDim, this.options.SketchCapacity);   // every check before the first allocation
        // Detached from any caller's dispose scope: the accumulators live as long as the collector. Normal (not
        // inference) tensors even if constructed under inference_mode, so they can be updated inside and outside it.
        using (inference_mode(false))
        {
            if (this.options.TrackPositions)
                positionActiveCounts = zeros(L, maxLength, ffnDim, ScalarType.Int32, this.device).DetachFromDisposeScope();
            else
                activeCounts = zeros(L, ffnDim, ScalarType.Int64, this.device).DetachFromDisposeScope();
            nonFinite = zeros(L, ScalarType.Int64, this.device).DetachFromDisposeScope();
        }
        positionTokenCounts = new long[maxLength];
        unigrams = new long[this.options.NgramOrders.Contains(1) ? vocabSize : 0];
        sketches = onDevice ? [] : this.options.NgramOrders.Select(_ => new NgramSketch(L * ffnDim, this.options.SketchCapacity)).ToArray();
        deviceSketches = [];
        var onDeviceSketches = new List<DeviceSketches>();
        try
        {
            for (int o = 0; onDevice && o < this.options.NgramOrders.Count; o++)
                onDeviceSketches.Add(new DeviceSketches(L * ffnDim, this.options.SketchCapacity, this.device));
        }
        catch
        {
            onDeviceSketches.ForEach(d => d.Dispose());
            Dispose();
            throw;
        }
        deviceSketches = onDeviceSketches.ToArray();
    }

    /// <summary>
    /// Refuses host summaries larger than this machine's memory, which would end in the kernel killing the process
    /// (after minutes of allocation) rather than in a message.
    /// </summary>
    static void CheckHostMemory(long rows, StatsOptions options)
    {
        long bytes = rows * options.NgramOrders.Count * (12L * options.SketchCapacity + 12);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (available > 0 && bytes > available)
            throw new ArgumentException($"SketchCapacity {options.SketchCapacity} (--sketch-capacity): the n-gram summaries of {rows:N0} neurons × " +
                                        $"{options.NgramOrders.Count} orders need {bytes / 1e9:F1} GB of host memory, and this machine has {available / 1e9:F1} GB. " +
                                        "Lower the capacity, capture fewer layers or n-gram orders, or count on a CUDA device.");
    }

    public IReadOnlyList<int> Layers => layers;
    public StatsOptions Options => options;
    public long TokenCount => tokenCount;

    /// <summary>
    /// Wall time spent inside <see cref="CountBatch"/> and <see cref="Update(int, Tensor, CountedBatch)"/> so far: the
    /// statistics' own share of a capture, measured inside the same passes as the forward computation around it. On
    /// the CPU that is their direct cost (not the cache misses they may cause the computation after them). On a GPU it
    /// is only the host's part: kernels run asynchronously, so their time falls wherever the host next waits.
    /// </summary>
    public TimeSpan CountingTime => countingClock.Elapsed;

    /// <summary>Starts a batch for <see cref="Update(int, Tensor)"/>: <see cref="CountBatch"/>, remembered as the current batch.</summary>
    public void BeginBatch(Tensor inputIds, Tensor attentionMask)
    {
        var next = CountBatch(inputIds, attentionMask);
        current?.ReleaseDevice();   // where a layer of the previous batch was left out
        current = next;
    }

    /// <summary>
    /// Counts a batch: validates the inputs and computes positions, the counted tokens and their n-grams once for all
    /// layers. Pads (mask 0) never count; with <see cref="StatsOptions.IncludeFirstPosition"/> false, position 0 does not
    /// either. Throws <see cref="ArgumentException"/>, leaving the statistics unchanged, on a real token id outside
    /// [0, vocabSize), a position ≥ maxLength, a mask value other than 0/1 or mismatched shapes, and
    /// <see cref="InvalidDataException"/> when an earlier batch's activations held NaN or ∞. Returns the handle
    /// every captured layer's <see cref="Update(int, Tensor, CountedBatch)"/> of this batch takes.
    /// </summary>
    public CountedBatch CountBatch(Tensor inputIds, Tensor attentionMask)
    {
        countingClock.Start();
        try { return CountInputs(inputIds, attentionMask); }
        finally { countingClock.Stop(); }
    }

    CountedBatch CountInputs(Tensor inputIds, Tensor attentionMask)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (inputIds.ndim != 2 || !inputIds.shape.SequenceEqual(attentionMask.shape))
            throw new ArgumentException($"inputIds has shape [{string.Join(", ", inputIds.shape)}] and attentionMask [{string.Join(", ", attentionMask.shape)}]; both must be [B, T] with the same B and T.");
        if (inputIds.is_floating_point() || inputIds.dtype == ScalarType.Bool)
            throw new ArgumentException($"inputIds must hold integer token ids, got dtype {inputIds.dtype}.");
        int B = (int)inputIds.shape[0], T = (int)inputIds.shape[1];
        long[] ids = [], mask = [];
        if (B * (long)T > 0)   // an empty batch is legal and counts nothing
        {
            using var scope = NewDisposeScope();
            ids = TensorArrays.ToArray<long>(inputIds.to(ScalarType.Int64).cpu());
            mask = TensorArrays.ToArray<long>(attentionMask.to(ScalarType.Int64).cpu());
        }
        var layout = BatchLayout.Build(ids, mask, B, T, options.IncludeFirstPosition, maxLength, vocabSize);
        ThrowIfNonFinite();   // after the host's work, which overlaps the device's last batch; before anything changes
        if (options.NgramOrders.Count > 0 && tokenCount + layout.Count > int.MaxValue)
            throw new InvalidOperationException($"More than {int.MaxValue} counted tokens: the int32 sketch counts would overflow; save and Merge partial runs instead.");
        if (positionActiveCounts is not null && sequenceCount + layout.Sequences > int.MaxValue)
            throw new InvalidOperationException($"More than {int.MaxValue} sequences: the int32 per-position counts could overflow; save and Merge partial runs instead.");
        tokenCount += layout.Count;
        sequenceCount += layout.Sequences;
        foreach (var p in layout.CountedPositions) positionTokenCounts[p]++;
        foreach (int n in options.NgramOrders)
            foreach (var key in layout.Keys[n - 1])
            {
                if (key < 0) continue;
                if (n == 1) unigrams[key]++;
                else CollectionsMarshal.GetValueRefOrAddDefault(sparse[n - 1], key, out _)++;
            }
        return new CountedBatch(this, layout, layers.Length);
    }
}
