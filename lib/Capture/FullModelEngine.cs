using OptNeurons.Model;
using OptNeurons.Stats;
using static TorchSharp.torch;

namespace OptNeurons.Capture;

/// <summary>Batch-major capture with the whole model in memory: each batch runs through the captured layers in one pass.</summary>
public sealed class FullModelEngine(OptForCausalLM model) : ICaptureEngine
{
    public OptConfig Config => model.Config;
    public Device Device => model.Decoder.Device;
    public ScalarType Dtype => model.Decoder.Dtype;
    public ScalarType ResidualDtype => Dtype;

    public void Run(NeuronStatsCollector collector, IReadOnlyList<(Tensor InputIds, Tensor AttentionMask)> batches, int layerCount)
    {
        using var _ = inference_mode();
        using var hooks = new NeuronHooks(model, Enumerable.Range(0, layerCount), collector.Update);
        foreach (var (ids, mask) in batches)
        {
            using var scope = NewDisposeScope();
            // The host tensors: the collector's bookkeeping and the decoder's input checks read them without waiting
            // for the device, which may still be running the previous batch; the decoder moves them to the device.
            collector.BeginBatch(ids, mask);
            model.Decoder.Run(ids, mask, layerCount);   // no LM head, no layers past the last captured
        }
    }
}
