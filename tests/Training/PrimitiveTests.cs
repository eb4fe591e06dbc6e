using OptNeurons.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Training;

/// <summary>The trainer's parts in isolation: PRNG, learning-rate schedule, windows, settings comparison.</summary>
public class PrimitiveTests
{
    [Fact]
    public void Xoshiro_MatchesReferenceOutputs_AndResumesFromItsState()
    {
        var seeder = new OptNeurons.Corpus.SplitMix64(1234567);   // SplitMix64's published sequence for this seed
        Assert.Equal(6457827717110365317UL, seeder.Next());
        Assert.Equal(3203168211198807973UL, seeder.Next());
        var rng = new Xoshiro256(42);   // xoshiro256** reference code, seeded by SplitMix64(42)
        Assert.Equal(1546998764402558742UL, rng.Next());
        Assert.Equal(6990951692964543102UL, rng.Next());
        var copy = new Xoshiro256(rng.State);
        Assert.Equal(new[] { 12544586762248559009UL, 17057574109182124193UL }, new[] { rng.Next(), rng.Next() });
        Assert.Equal(new[] { 12544586762248559009UL, 17057574109182124193UL }, new[] { copy.Next(), copy.Next() });
    }

    [Fact]
    public void NextBelow_StaysInRange_AndIsRoughlyUniform()
    {
        var rng = new Xoshiro256(7);
        var counts = new int[6];
        for (int i = 0; i < 60_000; i++) counts[rng.NextBelow(6)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }

    [Fact]
    public void LearningRate_WarmsUpLinearly_ThenDecaysToTenPercent()
    {
        var s = new TrainingSettings { Steps = 110, WarmupSteps = 10, PeakLr = 1e-3 };
        Assert.Equal(1e-4, s.LearningRate(1), 12);
        Assert.Equal(1e-3, s.LearningRate(10), 12);
        Assert.Equal(1e-3 * (1 - 0.9 * 0.5), s.LearningRate(60), 12);
        Assert.Equal(1e-4, s.LearningRate(110), 12);
    }

    [Fact]
    public void InvalidSettings_NameTheCommandLineOption()
    {
        Assert.Equal("training settings: PeakLr (--lr) must be positive, got -1.",
                     Assert.Throws<ArgumentException>(() => new TrainingSettings { PeakLr = -1 }.Validate()).Message);
        Assert.Equal("training settings: FinalLrFraction (--final-lr-fraction) must be in [0, 1], got 2.",
                     Assert.Throws<ArgumentException>(() => new TrainingSettings { FinalLrFraction = 2 }.Validate()).Message);
    }

    [Fact]
    public void Windows_StartWithBos_AndTargetsAreTheNextTokens()
    {
        int[] stream = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
        var (input, target) = Windows.Random(stream, context: 4, batchSize: 3, new Xoshiro256(3), bosId: 2);
        var i = input.data<long>().ToArray();
        var t = target.data<long>().ToArray();
        for (int b = 0; b < 3; b++)
        {
            Assert.Equal(2, i[b * 4]);
            Assert.Equal(t[(b * 4)..(b * 4 + 3)], i[(b * 4 + 1)..(b * 4 + 4)]);   // input = BOS + targets shifted by one
            Assert.Equal(t[b * 4] + 3, t[b * 4 + 3]);                              // four consecutive stream tokens
        }
        var even = Windows.Evenly(stream, 4, 2, 2, 2).Select(w => w.Target[.., 0].data<long>().ToArray()).SelectMany(a => a).ToArray();
        Assert.Equal(new long[] { 10, 11, 13, 15 }, even);   // starts ⌊k · 7 / 4⌋ of the 7 possible: 0, 1, 3, 5
    }

    [Fact]
    public void DifferencesFrom_NamesTrainingSettings_AndIgnoresOperationalOnes()
    {
        var a = TinyRuns.Settings;
        Assert.Empty(a.DifferencesFrom(a with { EvalEvery = 3, CheckpointEvery = 5, Threads = 1, LogEvery = 1 }));
        var diff = Assert.Single((a with { PeakLr = 0.5 }).DifferencesFrom(a));
        Assert.Equal("PeakLr: 0.5 here, 0.03 in the checkpoint", diff);
    }

    [Fact]
    public void AdamW_MatchesTorchSharpsAdamW()
    {
        using var scope = NewDisposeScope();
        var start = randn(new long[] { 5, 3 }, generator: new Generator(1));
        var ours = new Parameter(start.clone());
        var theirs = new Parameter(start.clone());
        using var mine = new NamedAdamW([new TrainedParameter("w", ours, Decay: true)], 0.9, 0.95, 1e-8, 0.1);
        var reference = optim.AdamW([theirs], lr: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0.1);
        for (int step = 0; step < 5; step++)
        {
            var target = full(5, 3, step * 0.3f);
            ((ours - target).pow(2).sum() * (step + 1)).backward();
            ((theirs - target).pow(2).sum() * (step + 1)).backward();
            mine.Step(0.01); mine.ZeroGrad();
            reference.step(); reference.zero_grad();
        }
        Assert.True(ours.allclose(theirs, rtol: 0, atol: 1e-6), "AdamW differs from TorchSharp's");
        Assert.False(ours.allclose(start, rtol: 0, atol: 1e-3), "the parameter did not move");
    }
}
