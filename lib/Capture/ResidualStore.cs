using static TorchSharp.torch;

namespace OptNeurons.Capture;

/// <summary>Where a layer-streamed capture keeps the chunk's residual stream between layers.</summary>
public enum ResidualPlace
{
    /// <summary>Beside the weights, on the compute device: no copies, but it counts against the device's memory.</summary>
    Device,
    /// <summary>In host memory: one batch at a time is copied to the device and back.</summary>
    Host,
    /// <summary>In a spill file on disk: one batch at a time is read and written back in place.</summary>
    Disk,
}

/// <summary>
/// The residual stream of a chunk between layers: one (B, T, H) tensor per batch, kept in a storage dtype and handed
/// back on the compute device in the compute dtype. Storing in the compute dtype keeps it bit-exact; a narrower storage
/// dtype rounds it after every layer (and changes the statistics slightly).
/// </summary>
internal abstract class ResidualStore(Device device, ScalarType compute, ScalarType storage) : IDisposable
{
    protected Device ComputeDevice { get; } = device;
    protected ScalarType Compute { get; } = compute;
    protected ScalarType Storage { get; } = storage;

    public static ResidualStore Create(ResidualPlace place, Device device, ScalarType compute, ScalarType storage, string? spillDirectory) => place switch
    {
        ResidualPlace.Device => new TensorResidualStore(device, device, compute, storage),
        ResidualPlace.Host => new TensorResidualStore(CPU, device, compute, storage),
        ResidualPlace.Disk => new SpillFile(spillDirectory ?? Path.GetTempPath(), device, compute, storage),
        _ => throw new ArgumentOutOfRangeException(nameof(place), place, null),
    };

    /// <summary>Stores batch <paramref name="batch"/>'s residual (a copy, or a view that outlives the caller's scope).</summary>
    public abstract void Put(int batch, Tensor x);

    /// <summary>Batch <paramref name="batch"/>'s residual on the compute device, owned by the caller's dispose scope.</summary>
    public abstract Tensor Get(int batch);

    public abstract void Dispose();
}

/// <summary>The residual as tensors on the device or on the host.</summary>
internal sealed class TensorResidualStore(Device place, Device device, ScalarType compute, ScalarType storage)
    : ResidualStore(device, compute, storage)
{
    readonly List<Tensor> items = [];

    public override void Put(int batch, Tensor x)
    {
        var stored = x.to(Storage, place).DetachFromDisposeScope();   // same dtype and place: a new handle, no copy
        if (batch == items.Count) items.Add(stored);
        else
        {
            items[batch].Dispose();
            items[batch] = stored;
        }
    }

    public override Tensor Get(int batch) => items[batch].to(Compute, ComputeDevice);

    public override void Dispose()
    {
        foreach (var t in items) t.Dispose();
        items.Clear();
    }
}
