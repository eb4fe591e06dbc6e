using OptNeurons.Model;
using OptNeurons.Stats;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Capture;

/// <summary>
/// Batch and chunk sizes of a layer-streamed capture chosen from a memory budget, with the estimate behind them:
/// <c>budget ≥ W + S + A(b) + R·c</c>, where W is the larger of one layer's weights and the embedding weights (never
/// both resident), S the statistics, A(b) the transient activations of one batch of b sequences, and R·c the
/// residual stream of a chunk of c sequences. Without an explicit batch size, b is the largest power of two up to 64
/// with A(b) ≤ half of what W and S leave; c then takes the rest, rounded down to a multiple of b. Estimates are
/// upper-bound-minded, not exact: allocators add fragmentation, and CUDA its context (~0.5 GB) outside the budget.
/// Left to that margin: each batch's token indices on the device while the chunk runs (<see cref="Stats.DeviceBatch"/>,
/// 8 to 44 bytes per token: at most about 3 % of the chunk's half-precision residual at 125m's width, 0.2 % at 66b's).
/// </summary>
public sealed record StreamingPlan
{
    public required long Budget { get; init; }
    public required int BatchSize { get; init; }
    public required int ChunkSize { get; init; }
    /// <summary>W: max(one layer, the embedding modules), in the compute dtype.</summary>
    public required long WeightBytes { get; init; }
    /// <summary>
    /// S: device accumulators; on a CUDA device also the n-gram summaries and one update step's temporaries, on a CPU
    /// device the host summaries and two snapshot copies at checkpoints.
    /// </summary>
    public required long StatisticsBytes { get; init; }
    /// <summary>A(b): attention scores in float32, hidden states, FFN activations and the collector's masks for one batch.</summary>
    public required long BatchBytes { get; init; }
    /// <summary>R·c: the chunk's residual in the residual dtype, wherever it is kept.</summary>
    public required long ResidualBytes { get; init; }

    public long Total => WeightBytes + StatisticsBytes + BatchBytes + ResidualBytes;

    public static StreamingPlan FromBudget(long budget, OptConfig config, int layerCount, int maxLength, StatsOptions stats,
        ScalarType dtype, ScalarType residualDtype, DeviceType device, int sequences, int? batchSize = null)
    {
        long d = ElementSize(dtype), r = ElementSize(residualDtype);
        long h = config.HiddenSize, f = config.FfnDim, p = config.WordEmbedProjDim, t = maxLength, L = layerCount;
        long layer = (4 * h * h + 2 * h * f + 9 * h + f) * d;                                   // q,k,v,out + fc1,fc2 + biases, 2 norms
        long embeddings = (config.VocabSize * p + (config.MaxPositionEmbeddings + 2L) * h + (config.HasProjections ? 2 * p * h : 0) + 2 * h) * d;
        long accumulators = L * f * 8 + (stats.TrackPositions ? L * t * f * 4 : 0);
        long summaries = L * f * stats.NgramOrders.Count * (12L * stats.SketchCapacity + 12);
        long summaryStep = stats.NgramOrders.Count > 0 ? DeviceSketches.DefaultStepEntries * DeviceSketches.StepBytesPerEntry : 0;
        long statistics = device switch
        {
            DeviceType.CPU => 3 * (accumulators + summaries),
            DeviceType.CUDA => accumulators + summaries + summaryStep,   // the summaries live on a CUDA device (NeuronStatsCollector)
            _ => accumulators,
        };
        long weights = Math.Max(layer, embeddings);
        long perSequence = t * h * r;
        long Activations(long b) => b * t * (12 * h * d + f * (2 * d + 3)) + b * t * t * (config.NumAttentionHeads * (2 * d + 12) + 7);

        long free = budget - weights - statistics;
        if (free < Activations(1) + perSequence)
            throw new ArgumentException($"a memory budget of {ByteSize.Format(budget)} is too small: one layer or the embeddings take {ByteSize.Format(weights)}, " +
                $"the statistics {ByteSize.Format(statistics)}, one sequence of {t} tokens {ByteSize.Format(Activations(1) + perSequence)}; " +
                "raise the budget, capture fewer layers (--layers), or drop per-position counts (--no-positions).");
        int b = batchSize ?? Enumerable.Range(0, 7).Select(i => 1 << i).Where(x => x == 1 || (Activations(x) <= free / 2 && Activations(x) + x * perSequence <= free)).Max();
        long room = (free - Activations(b)) / perSequence;
        if (room < b)
            throw new ArgumentException($"batch size {b} leaves no room for a chunk in {ByteSize.Format(budget)}: one batch takes {ByteSize.Format(Activations(b))}; lower --batch-size or raise the budget.");
        int chunk = (int)Math.Min(room / b * b, (sequences + b - 1) / b * (long)b);
        return new StreamingPlan
        {
            Budget = budget, BatchSize = b, ChunkSize = chunk, WeightBytes = weights, StatisticsBytes = statistics,
            BatchBytes = Activations(b), ResidualBytes = chunk * perSequence,
        };
    }

    static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Float64 => 8,
        _ => throw new ArgumentException($"dtype {t} is not a floating-point compute dtype."),
    };

    public override string ToString() =>
        $"batch {BatchSize}, chunk {ChunkSize} sequences: weights {ByteSize.Format(WeightBytes)} + statistics {ByteSize.Format(StatisticsBytes)} + " +
        $"one batch {ByteSize.Format(BatchBytes)} + chunk residual {ByteSize.Format(ResidualBytes)} = {ByteSize.Format(Total)} of {ByteSize.Format(Budget)}";
}
