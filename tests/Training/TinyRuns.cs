using OptNeurons.Training;

namespace OptNeurons.Tests.Training;

/// <summary>
/// Training tests share torch's global state (the dropout generator, the thread count), so they run alone, after the
/// parallel tests: another test drawing from the default generator mid-run would change a dropout mask.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainingCollection { public const string Name = "Training (serial)"; }

/// <summary>Tiny settings and a learnable synthetic token stream: each run takes well under a second.</summary>
static class TinyRuns
{
    public static readonly TrainingSettings Settings = new()
    {
        Layers = 2, Hidden = 16, Heads = 2, VocabSize = 128, Context = 16, Steps = 24, BatchSize = 4, PeakLr = 3e-2, WarmupSteps = 2,
        Dropout = 0.1, Seed = 11, CheckpointEvery = 8, EvalEvery = 8, EvalBatches = 2, LogEvery = 2,
    };

    /// <summary>A stream where most tokens follow from the one before (t → 3t + 1 mod 97, offset by 4), with 10 % noise.</summary>
    public static int[] Stream(int length, ulong seed)
    {
        var rng = new Xoshiro256(seed);
        var tokens = new int[length];
        int t = 5;
        for (int i = 0; i < length; i++)
        {
            t = rng.NextBelow(10) == 0 ? 4 + (int)rng.NextBelow(120) : 4 + ((t - 4) * 3 + 1) % 97;
            tokens[i] = t;
        }
        return tokens;
    }

    public static readonly TrainingData Data = new(Stream(3000, 1), Stream(400, 2), "synthetic test stream");
}

static class TensorAssert
{
    /// <summary>Same shape and bit-identical values (TorchSharp's Tensor.equal is elementwise, not torch.equal).</summary>
    public static bool Identical(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();
}
