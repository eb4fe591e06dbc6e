using OptNeurons.Stats;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Stats;

public class CollectorGuardTests
{
    static NeuronStatsCollector Collector() => new(new StatsOptions(), [0, 1], ffnDim: 4, maxLength: 3, vocabSize: 10);

    [Fact]
    public void LiveTensorCount_ReturnsToBaseline_AfterEveryBatch()
    {
        using var c = Collector();
        DisposeScopeManager.Statistics.Reset();
        long baseline = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var rng = new Random(5);
        for (int round = 0; round < 5; round++)
        {
            var data = new long[2, 3];
            for (int i = 0; i < 6; i++) data[i / 3, i % 3] = rng.Next(10);
            var values = new float[2, 3, 4];
            for (int i = 0; i < 24; i++) values[i / 12, i / 4 % 3, i % 4] = MathF.Max(0, (float)rng.NextDouble() - 0.5f);
            using (var ids = tensor(data))
            using (var mask = tensor(new long[,] { { 0, 1, 1 }, { 1, 1, 1 } }))
            using (var acts = tensor(values))
            {
                c.BeginBatch(ids, mask);
                c.Update(0, acts);
                c.Update(1, acts);
            }
            Assert.Equal(baseline, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        Assert.Equal(25, c.TokenCount);   // 5 real tokens per round
    }

    [Theory]
    [InlineData(float.NaN, ScalarType.Float32)]
    [InlineData(float.PositiveInfinity, ScalarType.Float32)]
    [InlineData(float.PositiveInfinity, ScalarType.Float16)]
    public void NonFiniteActivations_AfterTheFirstUpdate_AreRefusedAtTheNextBatch_AndByResult(float bad, ScalarType dtype)
    {
        using var c = Collector();
        using var scope = NewDisposeScope();
        var (ids, mask) = (tensor(new long[,] { { 2, 5, 6 } }), ones(1, 3, ScalarType.Int64));
        c.BeginBatch(ids, mask);
        c.Update(0, ones(1, 3, 4, dtype));
        c.Update(1, ones(1, 3, 4, dtype));
        var poisoned = ones(1, 3, 4, dtype);
        poisoned[0, 1, 2] = tensor(bad).to(dtype);   // as a float16 overflow leaves it, in one layer of a later batch
        c.BeginBatch(ids, mask);
        c.Update(0, ones(1, 3, 4, dtype));
        c.Update(1, poisoned);
        var next = Assert.Throws<InvalidDataException>(() => c.BeginBatch(ids, mask));
        Assert.Contains("layer 1 held NaN or infinity", next.Message);
        Assert.Throws<InvalidDataException>(() => c.Result());
    }

    [Fact]
    public void SummariesLargerThanTheMachine_AreRefusedUpFront()
    {
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        // 3 orders × (12·K + 12) bytes per neuron, K = 10^6: enough neurons to need twice the machine's memory.
        const int capacity = 1_000_000;
        int neurons = checked((int)(2 * memory / (3L * 12 * capacity) + 1));
        var error = Assert.Throws<ArgumentException>(() => new NeuronStatsCollector(new StatsOptions { SketchCapacity = capacity }, [0], neurons, 8, 10));
        Assert.Contains($"SketchCapacity {capacity} (--sketch-capacity)", error.Message);
        Assert.Contains("GB of host memory, and this machine has", error.Message);
    }

    [Fact]
    public void CountingTime_RunsOnlyInsideCountingCalls_AndStopsWhenOneThrows()
    {
        using var c = Collector();
        Assert.Equal(TimeSpan.Zero, c.CountingTime);
        using var scope = NewDisposeScope();
        var (ids, mask, acts) = (tensor(new long[,] { { 2, 5, 6 } }), ones(1, 3, ScalarType.Int64), ones(1, 3, 4));
        var wall = System.Diagnostics.Stopwatch.StartNew();
        c.BeginBatch(ids, mask);
        c.Update(0, acts);
        wall.Stop();
        var counted = c.CountingTime;
        Assert.InRange(counted, TimeSpan.FromTicks(1), wall.Elapsed);

        Thread.Sleep(50);   // time outside the collector is not its own
        Assert.Equal(counted, c.CountingTime);
        Assert.Throws<ArgumentException>(() => c.Update(1, ones(1, 3, 5)));   // wrong ffn width
        var afterThrow = c.CountingTime;
        Assert.True(afterThrow > counted);
        Thread.Sleep(50);
        Assert.Equal(afterThrow, c.CountingTime);   // the failed call stopped the clock on its way out
    }

    [Fact]
    public void CollectorBuiltUnderInferenceMode_UpdatesOutsideIt_AndEmptyBatchesCountNothing()
    {
        NeuronStatsCollector c;
        using (inference_mode()) c = Collector();
        using (c)
        using (NewDisposeScope())
        {
            c.BeginBatch(zeros(0, 3, ScalarType.Int64), zeros(0, 3, ScalarType.Int64));
            c.Update(0, zeros(0, 3, 4));
            c.BeginBatch(tensor(new long[,] { { 2, 5, 6 } }), ones(1, 3, ScalarType.Int64));
            c.Update(0, tensor(new float[,,] { { { 1, 0, 0, 0 }, { 1, 1, 0, 0 }, { 0, 0, 0, 2 } } }));
            var s = c.Result();
            Assert.Equal([2L, 1, 0, 1], s.ActiveCounts(0).ToArray());
            Assert.Equal(1, s.SequenceCount);
            Assert.Equal("IncludeFirstPosition=True, TrackPositions=True, NgramOrders=[1, 2, 3], SketchCapacity=128",
                         s.Options.Describe());
            Assert.Contains("NgramOrders=[1, 2, 3]", s.Options.ToString());
        }
    }

    [Fact]
    public void BadInputs_AreRefusedWithMessagesNamingValueAndLimit()
    {
        using var c = Collector();
        using var scope = NewDisposeScope();
        var mask = ones(1, 3, ScalarType.Int64);
        string Message(Action a) => Assert.ThrowsAny<ArgumentException>(a).Message;

        Assert.Contains("Token id 12 at inputIds[0, 2] is outside the vocabulary [0, 10)",
            Message(() => c.BeginBatch(tensor(new long[,] { { 2, 5, 12 } }), mask)));
        Assert.Contains("Position 3", Message(() => c.BeginBatch(tensor(new long[,] { { 2, 5, 6, 7 } }), ones(1, 4, ScalarType.Int64))));
        Assert.Contains("not below maxLength 3", Message(() => c.BeginBatch(tensor(new long[,] { { 2, 5, 6, 7 } }), ones(1, 4, ScalarType.Int64))));
        Assert.Equal(0, c.TokenCount);   // refused batches leave no trace
        // Four columns but one pad: three real tokens fit in maxLength 3.
        c.BeginBatch(tensor(new long[,] { { 1, 2, 5, 6 } }), tensor(new long[,] { { 0, 1, 1, 1 } }));
        Assert.Contains("inputIds has shape [1, 3] and attentionMask [1, 4]",
            Message(() => c.BeginBatch(tensor(new long[,] { { 2, 5, 6 } }), ones(1, 4, ScalarType.Int64))));
        Assert.Contains("attentionMask[0, 1] is 2", Message(() => c.BeginBatch(tensor(new long[,] { { 2, 5, 6 } }), tensor(new long[,] { { 1, 2, 0 } }))));

        c.BeginBatch(tensor(new long[,] { { 2, 5, 6 } }), mask);
        Assert.Contains("have shape [1, 3, 5]; expected [1, 3, 4] ([B, T, ffnDim])", Message(() => c.Update(0, zeros(1, 3, 5))));
        Assert.Contains("Layer 7 is not captured; this collector captures layers [0, 1]", Message(() => c.Update(7, zeros(1, 3, 4))));
        c.Update(0, zeros(1, 3, 4));
        Assert.Contains("already updated", Assert.Throws<InvalidOperationException>(() => c.Update(0, zeros(1, 3, 4))).Message);

        using (var checkedFirst = Collector())
        {
            checkedFirst.BeginBatch(tensor(new long[,] { { 2, 5, 6 } }), mask);
            Assert.Contains("Activations of layer 1 hold a negative value (-0.5); the collector takes the fc2 input after the ReLU",
                Message(() => checkedFirst.Update(1, tensor(new float[,,] { { { 1, 0, 0, 0 }, { 0, -0.5f, 0, 0 }, { 0, 0, 0, 2 } } }))));
            Assert.Contains("hold NaN", Message(() => checkedFirst.Update(1, tensor(new float[,,] { { { 1, 0, float.NaN, 0 }, { 0, 0, 0, 0 }, { 0, 0, 0, 2 } } }))));
            checkedFirst.Update(1, tensor(new float[,,] { { { 1, 0, 0, 0 }, { 0, 3, 0, 0 }, { 0, 0, 0, 2 } } }));   // refused updates left no mark
            Assert.Equal([1L, 1, 0, 1], checkedFirst.Result().ActiveCounts(1).ToArray());
        }

        using var fresh = Collector();
        Assert.Contains("before BeginBatch", Assert.Throws<InvalidOperationException>(() => fresh.Update(0, zeros(1, 3, 4))).Message);
        Assert.Contains("vocabSize 200000 exceeds 131072",
            Message(() => new NeuronStatsCollector(new StatsOptions(), [0], 4, 3, vocabSize: 200_000)));
        using var unigramsOnly = new NeuronStatsCollector(new StatsOptions { NgramOrders = [1] }, [0], 4, 3, vocabSize: 200_000);
        Assert.Contains("every order must be 1, 2 or 3", Message(() => new StatsOptions { NgramOrders = [4] }.Validate()));
    }
}
