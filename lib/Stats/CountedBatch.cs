namespace OptNeurons.Stats;

/// <summary>
/// A batch whose tokens a <see cref="NeuronStatsCollector"/> has counted, returned by
/// <see cref="NeuronStatsCollector.CountBatch"/> and passed to <see cref="NeuronStatsCollector.Update(int, TorchSharp.torch.Tensor, CountedBatch)"/>.
/// It lets a caller visit layers in the outer loop (layer streaming: every batch of a chunk through layer 0, then
/// layer 1, …) while each batch's tokens, positions and n-grams are counted exactly once, as in batch-major order.
/// Holds host arrays (about 40 bytes per counted token) and, while its layers are being added to a collector whose
/// n-gram summaries live on the device, the batch's n-grams there (about 16 bytes per counted token and order), freed
/// once every captured layer has been added.
/// </summary>
public sealed class CountedBatch
{
    internal CountedBatch(NeuronStatsCollector owner, BatchLayout layout, int layers) =>
        (Owner, Layout, Updated) = (owner, layout, new bool[layers]);

    internal NeuronStatsCollector Owner { get; }
    internal BatchLayout Layout { get; }
    /// <summary>Updated[i]: captured layer i has been added for this batch (each layer once).</summary>
    internal bool[] Updated { get; }
    /// <summary>The batch's n-grams on the collector's device, uploaded by the first layer that needs them.</summary>
    internal DeviceBatchKeys? DeviceKeys { get; set; }

    internal void ReleaseDeviceKeys()
    {
        DeviceKeys?.Dispose();
        DeviceKeys = null;
    }

    /// <summary>Rows (B) and columns (T) of the batch the activations must match.</summary>
    public int Rows => Layout.Batch;
    public int Columns => Layout.Columns;
    /// <summary>Tokens of this batch that count (real tokens, minus position 0 when it is excluded).</summary>
    public int Tokens => Layout.Count;
}
