using OptNeurons.Model;
using static TorchSharp.torch;

namespace OptNeurons.Capture;

/// <summary>
/// Forward hooks on the neuron activations of chosen layers, removed on Dispose (TorchSharp's remover is not
/// disposable). The callback receives the layer index and its (B, T, F) activations; it must not keep the tensor
/// beyond the call unless it detaches a copy from the dispose scope.
/// </summary>
public sealed class NeuronHooks : IDisposable
{
    readonly List<Action> removers = [];

    public NeuronHooks(OptForCausalLM model, IEnumerable<int> layers, Action<int, Tensor> onActivations)
    {
        foreach (int l in layers)
        {
            if (l < 0 || l >= model.NumLayers) throw new ArgumentOutOfRangeException(nameof(layers), l, $"the model has layers 0..{model.NumLayers - 1}.");
            Attach(model.Decoder.Layers[l], post => onActivations(l, post));
        }
    }

    /// <summary>A hook on one stand-alone layer (layer streaming loads every layer's weights into the same module).</summary>
    public NeuronHooks(OptDecoderLayer layer, Action<Tensor> onActivations) => Attach(layer, onActivations);

    void Attach(OptDecoderLayer layer, Action<Tensor> onActivations)
    {
        var remover = layer.NeuronActivations.register_forward_hook((_, _, post) => { onActivations(post); return null!; });
        removers.Add(remover.remove);
    }

    public void Dispose()
    {
        foreach (var remove in removers) remove();
        removers.Clear();
    }
}
