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
    public StatsOptions Stats { get; init; } = new();
}

/// <summary>Runs token sequences through a model and streams its neuron statistics.</summary>
public static class NeuronCapture
{
    public static NeuronStats Run(OptForCausalLM model, IReadOnlyList<long[]> sequences, CaptureSettings settings, StatsSource source, TextWriter? progress = null)
    {
        if (sequences.Count == 0) throw new ArgumentException("there are no sequences to capture.", nameof(sequences));
        int layerCount = settings.LayerCount ?? model.NumLayers;
        if (layerCount < 1 || layerCount > model.NumLayers)
            throw new ArgumentOutOfRangeException(nameof(settings), layerCount, $"LayerCount must be in 1..{model.NumLayers}.");
        int maxLength = settings.MaxLength ?? sequences.Max(s => s.Length);
        var device = model.Decoder.Device;
        var layers = Enumerable.Range(0, layerCount).ToArray();
        using var collector = new NeuronStatsCollector(settings.Stats, layers, model.Config.FfnDim, maxLength, model.Config.VocabSize, device);
        using var hooks = new NeuronHooks(model, layers, collector.Update);
        var reporter = progress is null ? null : new ProgressReporter(sequences.Sum(s => (long)s.Length), progress);
        using var _ = inference_mode();
        foreach (var (ids, mask) in TokenBatches.Make(sequences, settings.BatchSize, model.Config.PadTokenId, settings.Padding))
        {
            using var batchIds = ids;     // made by the enumerator, outside this iteration's scope
            using var batchMask = mask;
            using var scope = NewDisposeScope();
            var (deviceIds, deviceMask) = (ids.to(device), mask.to(device));
            collector.BeginBatch(deviceIds, deviceMask);
            model.Decoder.Run(deviceIds, deviceMask, layerCount);   // no LM head, no layers past the last captured
            reporter?.Add(mask.sum().item<long>());
        }
        return collector.Result(source);
    }
}
