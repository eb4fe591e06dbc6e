using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Runtime;
using OptNeurons.Stats;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Capture;

/// <summary>Where and how a layer-streamed capture keeps the residual stream of a chunk.</summary>
public sealed record StreamingOptions
{
    public ResidualPlace Residual { get; init; } = ResidualPlace.Device;
    /// <summary>Storage dtype of the residual; null keeps the compute dtype (bit-exact, the default).</summary>
    public ScalarType? ResidualDtype { get; init; }
    /// <summary>Folder of the spill file for <see cref="ResidualPlace.Disk"/>; null: the system temp folder.</summary>
    public string? SpillDirectory { get; init; }
    /// <summary>
    /// Reads the next layer's weights on a worker thread while a layer runs, so the disk and the device work at the same
    /// time; host memory holds one more layer, in its stored dtype. Null (the default): on a GPU only. On the CPU the
    /// reading thread competes with the computing ones: no gain with every core busy (2 cores, OPT-125m shape), and
    /// about half of the streamed run's extra time over the full model saved when the computation left a core free.
    /// </summary>
    public bool? ReadAhead { get; init; }
    /// <summary>Gets one line per layer of each chunk: a chunk of a large model can take many minutes.</summary>
    public TextWriter? Log { get; init; }
}

/// <summary>
/// Layer-major capture for models larger than the device (paper §1.4: "we load one layer at a time"). For each chunk:
/// the embeddings of every batch (only embed_tokens, embed_positions and project_in are read), then for each layer up
/// to the last captured one, that layer's weights alone are read into one <see cref="OptDecoderLayer"/> and every batch
/// of the chunk goes through it. Weights are thus read once per chunk; memory holds one layer, the chunk's residual
/// and one batch's activations, whatever the depth. Same batches in, byte-identical statistics out.
/// </summary>
public sealed class LayerStreamedEngine(Checkpoint checkpoint, Device device, ScalarType dtype, StreamingOptions? options = null) : ICaptureEngine
{
    static readonly string[] EmbeddingModules = ["embed_tokens", "embed_positions", "project_in"];
    readonly StreamingOptions options = options ?? new StreamingOptions();

    /// <summary>Opens a snapshot folder; device and dtype resolve as in <see cref="Pretrained.Load"/>.</summary>
    public static LayerStreamedEngine Open(string directory, string? device = "auto", string? dtype = "auto", StreamingOptions? options = null)
    {
        var checkpoint = Checkpoint.Open(directory);
        var target = TorchRuntime.ResolveDevice(device);
        var storage = TorchRuntime.ParseDtype(checkpoint.Config.StorageDtype, $"{directory}/config.json");
        CheckpointLoader.CheckShapes(checkpoint);   // every layer now, not a missing tensor found layers into a run
        return new LayerStreamedEngine(checkpoint, target, TorchRuntime.ResolveDtype(dtype, storage, target), options);
    }

    public OptConfig Config { get; } = checkpoint.Config.Validate();
    public Device Device => device;
    public ScalarType Dtype => dtype;
    public ScalarType ResidualDtype => options.ResidualDtype ?? dtype;
    public Checkpoint Checkpoint => checkpoint;

    public void Run(NeuronStatsCollector collector, IReadOnlyList<(Tensor InputIds, Tensor AttentionMask)> batches, int layerCount)
    {
        CaptureSettings.CheckLayerCount(layerCount, Config);
        using var _ = inference_mode();
        // Tokens are counted once per batch, in batch order, before any layer runs: as in batch-major capture.
        var counted = batches.Select(b => collector.CountBatch(b.InputIds, b.AttentionMask)).ToList();
        using var residual = ResidualStore.Create(options.Residual, device, dtype, ResidualDtype, options.SpillDirectory);
        bool readAhead = options.ReadAhead ?? device.type != DeviceType.CPU;
        var next = readAhead ? new ReadAhead(checkpoint, LayerPrefix(0)) : null;   // read while the embeddings run
        try
        {
            Embed(batches, residual);
            using var layer = new OptDecoderLayer(Config, device, dtype);
            layer.eval();   // a stand-alone module starts in training mode: dropout would change the activations
            (int Layer, CountedBatch? Batch) at = default;
            using var hooks = new NeuronHooks(layer, post => collector.Update(at.Layer, post, at.Batch!));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            for (int l = 0; l < layerCount; l++)
            {
                if (l > 0) options.Log?.WriteLine($"capture: layer {l}/{layerCount} of the chunk done ({clock.Elapsed.TotalSeconds:F1} s)");
                using (var current = next)
                {
                    next = null;
                    CheckpointLoader.Load(layer, checkpoint, LayerPrefix(l), readAhead: current);   // this layer's tensors only
                }
                next = readAhead && l + 1 < layerCount ? new ReadAhead(checkpoint, LayerPrefix(l + 1)) : null;
                for (int i = 0; i < batches.Count; i++)
                {
                    using var scope = NewDisposeScope();
                    at = (l, counted[i]);
                    var y = layer.call(residual.Get(i), OptDecoder.LayerMask(batches[i].AttentionMask, device));
                    if (l < layerCount - 1) residual.Put(i, y);   // the last captured layer's output is never needed
                }
            }
        }
        finally { next?.Dispose(); }
    }

    static string LayerPrefix(int layer) => $"model.decoder.layers.{layer}.";

    /// <summary>Embeddings of every batch, from a decoder with no layers whose embedding modules alone are loaded.</summary>
    void Embed(IReadOnlyList<(Tensor InputIds, Tensor AttentionMask)> batches, ResidualStore residual)
    {
        using var embeddings = new OptDecoder(Config with { NumHiddenLayers = 0 }, device, dtype);
        embeddings.eval();
        foreach (var (name, module) in embeddings.named_children())
            if (EmbeddingModules.Contains(name)) CheckpointLoader.Load(module, checkpoint, $"model.decoder.{name}.");
        for (int i = 0; i < batches.Count; i++)
        {
            using var scope = NewDisposeScope();
            residual.Put(i, embeddings.Embed(batches[i].InputIds, batches[i].AttentionMask));
        }
    }
}
