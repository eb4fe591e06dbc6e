using System.Globalization;
using OptNeurons.Loading;
using OptNeurons.Tests.Support;
using OptNeurons.Training;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Training;

/// <summary>Whole runs: resume gives the uninterrupted run's numbers, refusals name their reason, the model card is right.</summary>
[Collection(TrainingCollection.Name)]
public class TrainerTests
{
    static Dictionary<string, Tensor> Weights(string checkpoint, string file) => SafeTensors.ReadAll(Path.Combine(checkpoint, file));

    [Fact]
    public void ResumedRun_EqualsUninterruptedRun()
    {
        using var temp = new TempDirectory();
        var straight = Trainer.Train(TinyRuns.Settings, TinyRuns.Data, temp.Sub("straight"));
        var first = Trainer.Train(TinyRuns.Settings, TinyRuns.Data, temp.Sub("resumed"), new TrainOptions { StopAfterStep = 11 });
        Assert.False(first.Completed);
        Assert.Equal(11, first.Step);
        var resumed = Trainer.Train(TinyRuns.Settings, TinyRuns.Data, temp.Sub("resumed"));

        Assert.True(straight.Completed && resumed.Completed);
        Assert.Equal(24, straight.Losses.Count);
        Assert.Equal(straight.Losses, resumed.Losses);   // float for float, dropout included
        Assert.Equal(straight.Evals, resumed.Evals);
        Assert.Equal([8, 16, 24], straight.Evals.Select(e => e.Step));
        Assert.True(straight.Losses.TakeLast(4).Average() < straight.Losses.Take(4).Average() - 0.5, $"the run did not learn: {string.Join(", ", straight.Losses)}");
        Assert.True(straight.Evals[^1].Loss < straight.Evals[0].Loss, "the held-out loss did not fall");
        foreach (var file in new[] { HfSnapshot.WeightsFile, CheckpointStore.OptimizerFile })
        {
            var a = Weights(straight.CheckpointDir, file);
            var b = Weights(resumed.CheckpointDir, file);
            Assert.Equal(a.Keys.Order(), b.Keys.Order());
            Assert.All(a, kv => Assert.True(TensorAssert.Identical(kv.Value, b[kv.Key]), $"{file}: {kv.Key} differs"));
        }
        Assert.Contains("resuming", File.ReadAllText(Path.Combine(temp.Sub("resumed"), "train.log")));
    }

    [Fact]
    public void Resume_WithOtherSettingsOrData_IsRefusedNamingTheDifference()
    {
        using var temp = new TempDirectory();
        Trainer.Train(TinyRuns.Settings, TinyRuns.Data, temp.Path, new TrainOptions { StopAfterStep = 2 });
        var e = Assert.Throws<InvalidOperationException>(() => Trainer.Train(TinyRuns.Settings with { PeakLr = 0.02, EvalEvery = 1 }, TinyRuns.Data, temp.Path));
        Assert.Contains("PeakLr: 0.02 here, 0.03 in the checkpoint", e.Message);
        Assert.DoesNotContain("EvalEvery", e.Message);   // operational settings may change between sessions
        var data = TinyRuns.Data with { Train = TinyRuns.Stream(3000, 99) };
        e = Assert.Throws<InvalidOperationException>(() => Trainer.Train(TinyRuns.Settings, data, temp.Path));
        Assert.Contains("other data", e.Message);
        Assert.Equal(2, TrainerState.Load(Path.Combine(CheckpointStore.FindLatest(temp.Path)!, CheckpointStore.StateFile)).Step);
    }

    [Fact]
    public void DivergingLoss_StopsTheRunNamingTheStep_AndLeavesTheLastCheckpointIntact()
    {
        using var temp = new TempDirectory();
        var settings = TinyRuns.Settings with { PeakLr = 1e30, WarmupSteps = 0, CheckpointEvery = 1 };
        var e = Assert.Throws<InvalidOperationException>(() => Trainer.Train(settings, TinyRuns.Data, temp.Path));
        Assert.StartsWith("step 2: the training loss is NaN", e.Message);
        Assert.Contains("the last checkpoint (step 1)", e.Message);
        var latest = CheckpointStore.FindLatest(temp.Path)!;
        Assert.Equal(1, TrainerState.Load(Path.Combine(latest, CheckpointStore.StateFile)).Step);
        using var model = Pretrained.Load(latest, "cpu", "float32");   // still a loadable snapshot
        Assert.False(Directory.Exists(Path.Combine(temp.Path, CheckpointStore.Current + ".tmp")));
    }

    [Fact]
    public void FinishedRun_ExportsFloat16_WithAModelCard()
    {
        using var culture = TestEnvironment.Use(TestEnvironment.DecimalComma());   // the card and the log write 1,234.5 all the same
        using var temp = new TempDirectory();
        var log = new StringWriter();
        var result = Trainer.Train(TinyRuns.Settings with { Steps = 4, LearnedPositions = false, KeepEvery = 2 }, TinyRuns.Data, temp.Path,
                                   new TrainOptions { Log = log, CommandLine = "optneurons train --steps 4" });
        using var model = Pretrained.Load(result.FinalDir!, "cpu", "auto");
        Assert.False(model.Config.HasLearnedPositions);
        var card = File.ReadAllText(Path.Combine(result.FinalDir!, ModelCard.FileName));
        // 2 layers × 3280 + final norm 32 = 6592 outside the 128 × 16 token embedding (NoPos: no position table).
        Assert.Contains("| parameters | 8,640 in all; 6,592 outside the token and position embeddings |", card);
        Assert.Contains($"| final held-out loss | {result.Evals[^1].Loss.ToString("F4", CultureInfo.InvariantCulture)} ", card);
        Assert.Contains("optneurons train --steps 4", card);
        Assert.Contains("| steps | 4 × batch 4 × 16 = 256 tokens", card);
        Assert.Contains("float16", card);
        Assert.Matches(@"step +4/4  loss +\d\.\d{4}  lr \d\.\d\de-0\d +[\d,]+ tok/s  ETA 0:00:00", log.ToString());
        Assert.Contains("eval step 4: held-out loss", log.ToString());
        using var kept = Pretrained.Load(Path.Combine(temp.Path, "steps", "step-000002"), "cpu", "auto");   // KeepEvery = 2
        Assert.Equal("float16", kept.Config.StorageDtype);
    }

    [Fact]
    public void TimeBudget_StopsAfterOneStep_WithACheckpoint()
    {
        using var temp = new TempDirectory();
        var result = Trainer.Train(TinyRuns.Settings, TinyRuns.Data, temp.Path, new TrainOptions { TimeBudget = TimeSpan.Zero });
        Assert.False(result.Completed);
        Assert.Equal(1, result.Step);
        Assert.Equal(1, TrainerState.Load(Path.Combine(result.CheckpointDir, CheckpointStore.StateFile)).Step);
        Assert.Null(result.FinalDir);
    }

    [Fact]
    public void HeldOutPlateau_IsReportedAsAWarning()
    {
        using var temp = new TempDirectory();
        var console = new StringWriter();
        var log = new TrainingLog(console, temp.Sub("train.log"), 64, 100);
        var evals = new List<EvalPoint> { new(10, 5.0), new(20, 4.0), new(30, 4.1), new(40, 4.2) };
        log.HeldOut(evals[..3], patience: 2);
        Assert.DoesNotContain("warning", console.ToString());   // 4.0 in the last two is the best so far
        log.HeldOut(evals, patience: 2);
        Assert.Contains("eval step 40: held-out loss 4.2000 (best 4.0000 at step 20)", console.ToString());
        Assert.Contains("warning: held-out loss has not improved over the last 2 evaluations (best 4.0000 at step 20)", console.ToString());
        Assert.Equal(console.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), File.ReadAllText(temp.Sub("train.log")));
    }
}
