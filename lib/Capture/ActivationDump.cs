using OptNeurons.Loading;
using OptNeurons.Model;
using static TorchSharp.torch;

namespace OptNeurons.Capture;

/// <summary>
/// Full activations and logits of one small batch, for inspection (not for corpora: they grow with tokens × neurons).
/// Written as safetensors with TransformerLens names plus the batch itself, so Python can read them.
/// </summary>
public static class ActivationDump
{
    public const string ActivationsFile = "activations.safetensors", LogitsFile = "logits.safetensors";

    /// <summary>
    /// Neuron activations (float32, CPU) of the first <paramref name="layers"/> layers (all when null), keyed by
    /// <see cref="HookNames.MlpPost"/>, and, with <paramref name="logits"/>, the logits. Without them neither the LM head
    /// (B·T·V floats, 20 GB for 800 sequences of 128 tokens) nor the layers past the last one asked for are computed.
    /// </summary>
    public static (Dictionary<string, Tensor> Activations, Tensor? Logits) Run(OptForCausalLM model, Tensor inputIds, Tensor attentionMask,
                                                                            int? layers = null, bool logits = true)
    {
        using var _ = inference_mode();
        var activations = new Dictionary<string, Tensor>();
        using var hooks = new NeuronHooks(model, Enumerable.Range(0, layers ?? model.NumLayers),
            (l, post) => activations[HookNames.MlpPost(l)] = post.to(ScalarType.Float32).cpu().clone().DetachFromDisposeScope());
        using var scope = NewDisposeScope();
        var device = model.Decoder.Device;
        var (ids, mask) = (inputIds.to(device), attentionMask.to(device));
        if (!logits)
        {
            model.Decoder.Run(ids, mask, layers ?? model.NumLayers);
            return (activations, null);
        }
        return (activations, model.call(ids, mask).to(ScalarType.Float32).cpu().DetachFromDisposeScope());
    }

    public static void Save(string directory, Tensor inputIds, Tensor attentionMask, IReadOnlyDictionary<string, Tensor>? activations, Tensor? logits)
    {
        Directory.CreateDirectory(directory);
        var batch = new Dictionary<string, Tensor> { ["input_ids"] = inputIds, ["attention_mask"] = attentionMask };
        if (activations is not null)
            SafeTensors.Write(Path.Combine(directory, ActivationsFile), activations.Concat(batch).ToDictionary());
        if (logits is not null)
            SafeTensors.Write(Path.Combine(directory, LogitsFile), new Dictionary<string, Tensor>(batch) { ["logits"] = logits });
    }
}
