using OptNeurons.Capture;
using OptNeurons.Model;
using OptNeurons.Stats;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Streaming;

/// <summary>The memory formula: sizes of its terms, the choice of batch and chunk, and the refusal of a budget too small.</summary>
public class PlanTests
{
    // OPT-66b's shapes (config.json of facebook/opt-66b): the model the streaming exists for.
    static readonly OptConfig Opt66b = new()
    {
        HiddenSize = 9216, FfnDim = 36864, NumHiddenLayers = 64, NumAttentionHeads = 72, VocabSize = 50272, MaxPositionEmbeddings = 2048,
    };

    [Fact]
    public void Opt66b_FirstHalfOnA80GBDevice_FitsTheBudget()
    {
        var plan = StreamingPlan.FromBudget(ByteSize.Parse("70GB"), Opt66b, layerCount: 32, maxLength: 2048, new StatsOptions(),
            ScalarType.Float16, ScalarType.Float16, DeviceType.CUDA, sequences: 100_000);
        long layer = (4L * 9216 * 9216 + 2L * 9216 * 36864 + 9 * 9216 + 36864) * 2;
        Assert.Equal(layer, plan.WeightBytes);                                   // one layer (2.0 GB) outweighs the embeddings (0.97 GB)
        // Positions (9.7 GB) and the n-gram summaries on the device (5.5 GB), plus one summary update step (1.7 GB).
        Assert.Equal(32L * 36864 * 8 + 32L * 2048 * 36864 * 4 + 32L * 36864 * 3 * (12 * 128 + 12) + (1L << 23) * 200, plan.StatisticsBytes);
        Assert.Equal(0, plan.ChunkSize % plan.BatchSize);
        Assert.Equal(plan.ChunkSize * 2048L * 9216 * 2, plan.ResidualBytes);
        Assert.InRange(plan.Total, 0.9 * plan.Budget, plan.Budget);              // the chunk takes what is left
        Assert.Contains("chunk residual", plan.ToString());
    }

    [Fact]
    public void SmallRun_ChunkIsCappedAtTheInput_AndTinyBudgetsAreRefused()
    {
        var tiny = new OptConfig { HiddenSize = 32, FfnDim = 128, NumHiddenLayers = 3, NumAttentionHeads = 4, VocabSize = 4096, MaxPositionEmbeddings = 64 };
        var plan = StreamingPlan.FromBudget(ByteSize.Parse("1GiB"), tiny, 3, 64, new StatsOptions(), ScalarType.Float32, ScalarType.Float32, DeviceType.CPU, sequences: 10);
        Assert.Equal(64, plan.BatchSize);
        Assert.Equal(64, plan.ChunkSize);   // 10 sequences rounded up to one batch
        Assert.Equal(4, StreamingPlan.FromBudget(1L << 30, tiny, 3, 64, new StatsOptions(), ScalarType.Float32, ScalarType.Float32, DeviceType.CPU, 10, batchSize: 4).BatchSize);
        var e = Assert.Throws<ArgumentException>(() => StreamingPlan.FromBudget(ByteSize.Parse("16GB"), Opt66b, 64, 2048, new StatsOptions(),
            ScalarType.Float16, ScalarType.Float16, DeviceType.CUDA, 1000));
        Assert.Contains("16.0 GB is too small", e.Message);
        Assert.Contains("the statistics 32.0 GB", e.Message);
    }

    [Theory]
    [InlineData("16GB", 16_000_000_000L)]
    [InlineData("16GiB", 17_179_869_184L)]
    [InlineData("1.5 TB", 1_500_000_000_000L)]
    [InlineData("512mb", 512_000_000L)]
    [InlineData("4096", 4096L)]
    public void ByteSizes_ParseDecimalAndBinaryUnits(string text, long bytes) => Assert.Equal(bytes, ByteSize.Parse(text));
}
