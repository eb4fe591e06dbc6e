using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace OptNeurons.Stats;

/// <summary>Bulk copies between CPU tensors and .NET arrays (TorchSharp's accessors copy element by element).</summary>
internal static class TensorArrays
{
    /// <summary>Copies a CPU tensor of element type <typeparamref name="T"/> into a new flat array.</summary>
    public static T[] ToArray<T>(Tensor t) where T : unmanaged
    {
        using var c = t.contiguous();
        var bytes = c.bytes;   // a span over the tensor's own memory (at most 2 GiB, i.e. one layer's block)
        return MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }
}
