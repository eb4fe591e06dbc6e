using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Model;

/// <summary>
/// An identity module placed where an activation is worth observing. It has no parameters (the state dict is
/// unchanged); forward hooks registered on it run because the model invokes it with <c>call()</c>.
/// </summary>
public sealed class HookPoint(string name) : nn.Module<Tensor, Tensor>(name)
{
    public override Tensor forward(Tensor input) => input;
}
