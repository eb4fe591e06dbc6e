using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Capture;

/// <summary>
/// The residual in one file on disk, deleted when closed (also when the process dies: it is unlinked on close and
/// named per process). Each batch owns a fixed byte range, written when the batch is first stored and rewritten in
/// place after every layer, so the file is as large as the chunk's residual in the storage dtype.
/// </summary>
internal sealed class SpillFile : ResidualStore
{
    readonly FileStream file;
    readonly List<(long Offset, long[] Shape)> slots = [];

    public SpillFile(string directory, Device device, ScalarType compute, ScalarType storage) : base(device, compute, storage)
    {
        Path = System.IO.Path.Combine(directory, $"optneurons-residual-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        try
        {
            Directory.CreateDirectory(directory);
            file = new FileStream(Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20, FileOptions.DeleteOnClose);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create the residual's spill file in '{directory}' ({e.Message.TrimEnd('.')}).", e);
        }
    }

    public string Path { get; }

    public override void Put(int batch, Tensor x)
    {
        using var scope = NewDisposeScope();
        var host = x.to(Storage, CPU).contiguous();
        if (batch == slots.Count) slots.Add((file.Length, host.shape));
        else if (!slots[batch].Shape.SequenceEqual(host.shape))
            throw new InvalidOperationException($"batch {batch} residual changed shape from [{string.Join(", ", slots[batch].Shape)}] to [{string.Join(", ", host.shape)}].");
        file.Position = slots[batch].Offset;
        TensorBytes.Write(host, file);
    }

    public override Tensor Get(int batch)
    {
        var (offset, shape) = slots[batch];
        var host = empty(shape, Storage);
        file.Position = offset;
        TensorBytes.Read(host, file);
        return host.to(Compute, ComputeDevice);
    }

    public override void Dispose() => file.Dispose();
}
