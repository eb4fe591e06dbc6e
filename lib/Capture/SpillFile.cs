using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Capture;

/// <summary>
/// The residual in one file on disk that nothing outlives: on Linux and macOS its name is removed as soon as it is open
/// (the open handle keeps the data), so even a killed process leaves no file behind; on Windows it is deleted on close.
/// Each batch owns a fixed byte range, written when the batch is first stored and rewritten in place after every layer,
/// so the file is as large as the chunk's residual in the storage dtype.
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
            file = new FileStream(Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 20,
                                  OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose : FileOptions.None);
            if (!OperatingSystem.IsWindows()) File.Delete(Path);
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
