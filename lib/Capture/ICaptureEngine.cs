using OptNeurons.Model;
using OptNeurons.Stats;
using static TorchSharp.torch;

namespace OptNeurons.Capture;

/// <summary>
/// How a chunk of batches reaches the statistics: <see cref="FullModelEngine"/> runs each batch through a model held
/// in memory, <see cref="LayerStreamedEngine"/> runs every batch through one layer at a time, reading each layer's
/// weights once per chunk. Both give byte-identical statistics for the same batches.
/// </summary>
public interface ICaptureEngine
{
    OptConfig Config { get; }
    /// <summary>Where activations are computed and the collector's exact accumulators live.</summary>
    Device Device { get; }
    /// <summary>The dtype layers compute in.</summary>
    ScalarType Dtype { get; }
    /// <summary>The dtype the residual stream is kept in between layers (equal to <see cref="Dtype"/> unless stored narrower).</summary>
    ScalarType ResidualDtype { get; }

    /// <summary>
    /// Adds every batch (CPU tensors, as <see cref="Data.TokenBatches.Make"/> makes them) to <paramref name="collector"/>
    /// for layers 0 … <paramref name="layerCount"/>-1; within each layer the batches come in the given order.
    /// </summary>
    void Run(NeuronStatsCollector collector, IReadOnlyList<(Tensor InputIds, Tensor AttentionMask)> batches, int layerCount);
}
