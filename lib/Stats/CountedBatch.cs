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
/// device, the batch's n-grams (<see cref="DeviceNgrams"/>, up to 12 bytes per counted token and order).
/// </summary>
internal sealed class DeviceBatch : IDisposable
{
    public Tensor? Counted { get; }
    public DeviceNgrams? Ngrams { get; }

    public DeviceBatch(BatchLayout layout, IReadOnlyList<int> deviceOrders, Device device)
    {
        using var scope = NewDisposeScope();
        using var normal = inference_mode(false);   // read by updates inside and outside inference mode
        if (layout.Count < (long)layout.Batch * layout.Columns)
            Counted = tensor(layout.CountedFlat).to(device).DetachFromDisposeScope();
        if (deviceOrders.Count > 0) Ngrams = new DeviceNgrams(layout, deviceOrders, device);
    }

    public void Dispose()
    {
        Counted?.Dispose();
        Ngrams?.Dispose();
    }
}

/// <summary>
/// A batch's n-grams as the device summaries read them (<see cref="DeviceSketches.UpdateLayer"/>), for the tracked
/// orders that have at least one n-gram in the batch (<see cref="Live"/>).
/// </summary>
internal sealed class DeviceNgrams : IDisposable
{
    /// <summary>Bits above which a key carries its order's index in <see cref="Keys"/>: every key is below 2^51.</summary>
    public const int TagBits = 3 * NgramKey.BitsPerToken;

    /// <summary>Indices, in the collector's tracked orders, of those with at least one n-gram in the batch.</summary>
    public int[] Live { get; }
    /// <summary>Per live order, [N] int32: the rank of the key of the n-gram ending at each counted token among that order's distinct keys, -1 where none does.</summary>
    public Tensor[] Ranks { get; }
    /// <summary>[Σ R] int64: each live order's distinct keys in increasing order, order after order, the i-th tagged i·2^TagBits + key, so all increase.</summary>
    public Tensor Keys { get; }
    /// <summary>[live] int64: where each live order's keys start in <see cref="Keys"/>.</summary>
    public Tensor Offsets { get; }
    /// <summary>R: the most distinct n-grams of one live order.</summary>
    public long MaxCount { get; }

    public DeviceNgrams(BatchLayout layout, IReadOnlyList<int> orders, Device device)
    {
        using var scope = NewDisposeScope();
        var distinct = orders.Select(n => layout.DistinctKeys[n - 1]).ToArray();
        Live = Enumerable.Range(0, orders.Count).Where(i => distinct[i].Length > 0).ToArray();
        MaxCount = Live.Length == 0 ? 0 : Live.Max(i => (long)distinct[i].Length);
        var tagged = Live.SelectMany((i, tag) => distinct[i].Select(key => ((long)tag << TagBits) + key)).ToArray();
        var offsets = new long[Live.Length];
        for (int i = 1; i < Live.Length; i++) offsets[i] = offsets[i - 1] + distinct[Live[i - 1]].Length;
        Keys = tensor(tagged).to(device).DetachFromDisposeScope();
        Offsets = tensor(offsets).to(device).DetachFromDisposeScope();
        Ranks = Live.Select(i => tensor(layout.KeyRanks[orders[i] - 1]).to(device).DetachFromDisposeScope()).ToArray();
    }

    public void Dispose()
    {
        Keys.Dispose();
        Offsets.Dispose();
        foreach (var t in Ranks) t.Dispose();
    }
}
