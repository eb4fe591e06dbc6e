using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OptNeurons.Model;

/// <summary>
/// Parameters allocated without values (torch.empty, as PyTorch's skip_init): every model here is filled right after it
/// is built, from a checkpoint (<see cref="Loading.CheckpointLoader"/>) or by OPT's own initialisation
/// (<see cref="Training.OptInitializer"/>), so the random draws of TorchSharp's constructors were wasted: 25 of the
/// 26 s it took to build a 1.3b-shaped model on 2 CPU cores.
/// </summary>
static class Unfilled
{
    /// <summary>A Linear layer (y = x·Wᵀ + b) whose weight (<paramref name="outputs"/>, <paramref name="inputs"/>) and bias hold no values yet.</summary>
    public static Linear Linear(long inputs, long outputs, bool hasBias, Device? device, ScalarType? dtype) =>
        nn.Linear(Parameter([outputs, inputs], device, dtype), hasBias ? Parameter([outputs], device, dtype) : null);

    public static Parameter Parameter(long[] shape, Device? device, ScalarType? dtype) => new(empty(shape, dtype, device));
}
