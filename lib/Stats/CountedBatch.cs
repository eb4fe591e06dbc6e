using static TorchSharp.torch;

namespace OptNeurons.Stats;

/// <summary>
/// A batch whose tokens a <see cref="NeuronStatsCollector"/> has counted, returned by
/// <see cref="NeuronStatsCollector.CountBatch"/> and passed to <see cref="NeuronStatsCollector.Update(int, TorchSharp.torch.Tensor, CountedBatch)"/>.
/// It lets a caller visit layers in the outer loop (layer streaming: every batch of a chunk through layer 0, then
/// layer 1, …) while each batch's tokens, positions and n-grams are counted exactly once, as in batch-major order.
/// Holds host arrays (about 40 bytes per counted token) and, while its layers are being added, what every layer's update
/// reads on the collector's device (<see cref="DeviceBatch"/>), freed once every captured layer has been added.
/// </summary>
public sealed class CountedBatch
{
    internal CountedBatch(NeuronStatsCollector owner, BatchLayout layout, int layers) =>
        (Owner, Layout, Updated) = (owner, layout, new bool[layers]);

    internal NeuronStatsCollector Owner { get; }
    internal BatchLayout Layout { get; }
    /// <summary>Updated[i]: captured layer i has been added for this batch (each layer once).</summary>
    internal bool[] Updated { get; }
    /// <summary>What every layer's update reads on the collector's device, uploaded by the batch's first update.</summary>
    internal DeviceBatch? OnDevice { get; set; }

    internal void ReleaseDevice()
    {
        OnDevice?.Dispose();
        OnDevice = null;
    }

    /// <summary>Rows (B) and columns (T) of the batch the activations must match.</summary>
    public int Rows => Layout.Batch;
    public int Columns => Layout.Columns;
    /// <summary>Tokens of this batch that count (real tokens, minus position 0 when it is excluded).</summary>
    public int Tokens => Layout.Count;
}

/// <summary>
/// One batch's index tensors on the collector's device, uploaded once for all its layers rather than once per layer (a
/// copy from host memory makes the host wait for the device): the counted tokens' rows of the flattened [B·T]
/// activations, null where every token counts (8 bytes per counted token); and where the n-gram summaries live on the
/// device, per tracked order, the batch's n-grams (<see cref="DeviceNgrams"/>, up to 12 bytes per counted token).
/// </summary>
internal sealed class DeviceBatch : IDisposable
{
    public Tensor? Counted { get; }
    public DeviceNgrams[] Ngrams { get; }

    public DeviceBatch(BatchLayout layout, IReadOnlyList<int> deviceOrders, Device device)
    {
        using var scope = NewDisposeScope();
        using var normal = inference_mode(false);   // read by updates inside and outside inference mode
        if (layout.Count < (long)layout.Batch * layout.Columns)
            Counted = tensor(layout.CountedFlat).to(device).DetachFromDisposeScope();
        Ngrams = deviceOrders.Select(n => new DeviceNgrams(tensor(layout.DistinctKeys[n - 1]).to(device).DetachFromDisposeScope(),
                                                          tensor(layout.KeyRanks[n - 1]).to(device).DetachFromDisposeScope())).ToArray();
    }

    public void Dispose()
    {
        Counted?.Dispose();
        foreach (var g in Ngrams) { g.Distinct.Dispose(); g.Ranks.Dispose(); }
    }
}

/// <summary>
/// One n-gram order of a batch on the device: its distinct keys in increasing order ([R] int64), and for each counted
/// token the index in them of the key of the n-gram ending there, -1 where none does ([N] int32).
/// </summary>
internal sealed record DeviceNgrams(Tensor Distinct, Tensor Ranks)
{
    /// <summary>R, the batch's distinct n-grams of this order.</summary>
    public long Count => Distinct.shape[0];
}
