using OptNeurons.Data;
using OptNeurons.Model;
using OptNeurons.Stats;
using static TorchSharp.torch;

namespace OptNeurons.Capture;

/// <summary>How a capture batches its sequences and what it counts.</summary>
public sealed record CaptureSettings
{
    public int BatchSize { get; init; } = 8;
    public PaddingSide Padding { get; init; } = PaddingSide.Right;
    /// <summary>Capture only the first k layers; later layers are not computed at all. Null: every layer.</summary>
    public int? LayerCount { get; init; }
    /// <summary>T, the positions the statistics track. Null: the longest sequence. Shards to be merged need the same T.</summary>
    public int? MaxLength { get; init; }
    /// <summary>
    /// Sequences per chunk, a multiple of <see cref="BatchSize"/>: the unit a layer-streamed capture keeps the residual
    /// stream of, and the unit a resumable capture saves after. Chunking never changes the statistics. Null: one chunk.
    /// </summary>
    public int? ChunkSize { get; init; }
    public StatsOptions Stats { get; init; } = new();

    /// <summary>These settings with LayerCount and MaxLength filled in for a model and its input, checked.</summary>
    public CaptureSettings Resolve(OptConfig config, IReadOnlyList<long[]> sequences)
    {
        if (sequences.Count == 0) throw new ArgumentException("there are no sequences to capture.", nameof(sequences));
        int layers = LayerCount ?? config.NumHiddenLayers;
        CheckLayerCount(layers, config);
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be positive.");
        if (ChunkSize is { } c && (c < 1 || c % BatchSize != 0))
            throw new ArgumentException($"the chunk size {c} (--chunk-size) must be a positive multiple of the batch size {BatchSize} (--batch-size), so chunks split no batch.");
        int maxLength = MaxLength ?? sequences.Max(s => s.Length);
        CheckSequences(sequences, config.VocabSize, maxLength);
        return this with { LayerCount = layers, MaxLength = maxLength };
    }

    /// <summary>
    /// Refuses, before anything is computed or written, a sequence the capture would stop at: an empty one, one longer
    /// than <paramref name="maxLength"/>, or a token id outside the vocabulary, so that a run never dies hours in and a
    /// resumable run leaves no job behind for data that was never valid.
    /// </summary>
    static void CheckSequences(IReadOnlyList<long[]> sequences, long vocabSize, int maxLength)
    {
        for (int i = 0; i < sequences.Count; i++)
        {
            var sequence = sequences[i];
            if (sequence.Length == 0 || sequence.Length > maxLength)
                throw new ArgumentException($"sequence {i} has {sequence.Length} tokens; a captured sequence has 1 to MaxLength ({maxLength}).");
            for (int t = 0; t < sequence.Length; t++)
                if ((ulong)sequence[t] >= (ulong)vocabSize)
                    throw new ArgumentException($"sequence {i}, position {t}: token id {sequence[t]} is outside the model's vocabulary [0, {vocabSize}).");
        }
    }

    /// <summary>Refuses a count of first layers to capture that the model does not have.</summary>
    internal static void CheckLayerCount(int layers, OptConfig config)
    {
        if (layers < 1 || layers > config.NumHiddenLayers)
            throw new ArgumentException($"cannot capture the first {layers} layers of a model with {config.NumHiddenLayers}: " +
                                        $"the layer count must be 1 to {config.NumHiddenLayers}.");
    }
}

/// <summary>Runs token sequences through a model and streams its neuron statistics.</summary>
public static class NeuronCapture
{
    /// <summary>Batch-major capture with the whole model in memory.</summary>
    public static NeuronStats Run(OptForCausalLM model, IReadOnlyList<long[]> sequences, CaptureSettings settings, StatsSource source, TextWriter? progress = null) =>
        Run(new FullModelEngine(model), sequences, settings, source, progress);

    /// <summary>Capture with any engine, chunk by chunk, in memory only (see <see cref="ResumableCapture"/> for runs that survive a kill).</summary>
    public static NeuronStats Run(ICaptureEngine engine, IReadOnlyList<long[]> sequences, CaptureSettings settings, StatsSource source, TextWriter? progress = null)
    {
        settings = settings.Resolve(engine.Config, sequences);
        using var collector = NewCollector(engine, settings);
        var reporter = progress is null ? null : new ProgressReporter(sequences.Sum(s => (long)s.Length), progress);
        foreach (var chunk in Chunks(sequences, 0, sequences.Count, settings))
        {
            long tokens = RunChunk(engine, collector, chunk, settings);   // not inside ?.(): it must run without a reporter
            reporter?.Add(tokens);
        }
        return collector.Result(source);
    }

    /// <summary>A collector for the resolved settings, on the engine's device.</summary>
    internal static NeuronStatsCollector NewCollector(ICaptureEngine engine, CaptureSettings settings) =>
        new(settings.Stats, Enumerable.Range(0, settings.LayerCount!.Value).ToArray(), engine.Config.FfnDim,
            settings.MaxLength!.Value, engine.Config.VocabSize, engine.Device);

    /// <summary>Sequences [start, end) cut into chunks of <see cref="CaptureSettings.ChunkSize"/>.</summary>
    internal static IEnumerable<IReadOnlyList<long[]>> Chunks(IReadOnlyList<long[]> sequences, int start, int end, CaptureSettings settings)
    {
        int size = settings.ChunkSize ?? Math.Max(1, end - start);
        for (int i = start; i < end; i += size)
            yield return Enumerable.Range(i, Math.Min(size, end - i)).Select(j => sequences[j]).ToList();
    }

    /// <summary>Batches one chunk exactly as an unchunked run batches it and runs it; returns the real tokens it held.</summary>
    internal static long RunChunk(ICaptureEngine engine, NeuronStatsCollector collector, IReadOnlyList<long[]> chunk, CaptureSettings settings)
    {
        var batches = TokenBatches.Make(chunk, settings.BatchSize, engine.Config.PadTokenId, settings.Padding).ToList();
        try { engine.Run(collector, batches, settings.LayerCount!.Value); }
        finally
        {
            foreach (var (ids, mask) in batches) { ids.Dispose(); mask.Dispose(); }   // made outside any scope by TokenBatches
        }
        return chunk.Sum(s => (long)s.Length);
    }
}
