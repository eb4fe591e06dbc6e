using static TorchSharp.torch;

namespace OptNeurons.Loading;

/// <summary>
/// The stored tensors under one prefix, read on a worker thread (on the CPU, in their stored dtype) while the caller
/// computes, then handed to <see cref="CheckpointLoader.Load"/>. A layer-streamed capture reads layer l + 1 this way
/// while layer l runs, so the disk and the device work at the same time. The tensors are made and disposed on the
/// caller's thread; the worker only fills their bytes. Holds one prefix's tensors until disposed.
/// </summary>
public sealed class ReadAhead : IDisposable
{
    readonly Dictionary<string, Tensor> tensors;
    readonly Task reading;

    public ReadAhead(Checkpoint checkpoint, string prefix)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        Prefix = prefix;
        var entries = checkpoint.Tensors.Values.Where(t => t.Name.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        tensors = entries.ToDictionary(t => t.Name, t => t.NewStored().DetachFromDisposeScope(), StringComparer.Ordinal);
        reading = Task.Run(() => { foreach (var entry in entries) entry.ReadStoredInto(tensors[entry.Name]); });
    }

    /// <summary>The prefix whose tensors are read, e.g. <c>model.decoder.layers.7.</c>.</summary>
    public string Prefix { get; }

    /// <summary>Waits for the read; an error while reading (a truncated file, say) is thrown here, as a direct read throws it.</summary>
    internal IReadOnlyDictionary<string, Tensor> Tensors
    {
        get
        {
            reading.GetAwaiter().GetResult();
            return tensors;
        }
    }

    public void Dispose()
    {
        // The worker must be done with the memory before it is freed; its error, if any, went to Load already (or the
        // caller failed first, and that error is the one to see).
        try { reading.Wait(); }
        catch (AggregateException) { }
        foreach (var tensor in tensors.Values) tensor.Dispose();
    }
}
