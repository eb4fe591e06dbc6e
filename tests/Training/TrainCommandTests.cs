using OptNeurons.Cli;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Training;

/// <summary>optneurons train from the command line: its exit codes, and bad input refused before anything is written.</summary>
[Collection(TrainingCollection.Name)]
public class TrainCommandTests
{
    [Fact]
    public void AStoppedRun_Exits3_AndTheSameCommandFinishesIt()
    {
        using var dir = new TempDirectory();
        var text = dir.Sub("a.txt");
        File.WriteAllLines(text, Enumerable.Range(0, 300).Select(i => $"Line {i} of a small text, which the model reads {i % 7} times."));
        string run = dir.Sub("run");
        string[] args = ["train", "--text", text, "--out", run, "--layers", "1", "--hidden", "16", "--heads", "2", "--context", "16",
                         "--steps", "2", "--batch-size", "2", "--warmup", "1", "--checkpoint-every", "1", "--eval-every", "1",
                         "--eval-batches", "1", "--log-every", "1", "--threads", "1"];
        Assert.Equal((3, ""), Run([.. args, "--stop-after-step", "1"]));   // stopped on purpose: not a failure, not done
        Assert.False(Directory.Exists(Path.Combine(run, "final")));
        Assert.Equal((0, ""), Run(args));
        Assert.True(File.Exists(Path.Combine(run, "final", "model.safetensors")));
        Assert.Contains("resuming", File.ReadAllText(Path.Combine(run, "train.log")));
    }

    [Fact]
    public void BadInput_IsOneLineWithExit2_AndWritesNothing()
    {
        using var dir = new TempDirectory();
        var text = dir.Sub("a.txt");
        File.WriteAllText(text, "Some text.");
        Assert.Equal((2, $"error: --text: '{dir.Sub("missing")}' is neither a file nor a folder."), Run("train", "--text", text, dir.Sub("missing"), "--out", dir.Sub("run")));
        Assert.Equal((2, "error: option --lr must be a non-negative number, got '-1'."), Run("train", "--text", text, "--out", dir.Sub("run"), "--lr", "-1"));
        Assert.False(Directory.Exists(dir.Sub("run")));
    }

    static (int Exit, string Stderr) Run(params string[] args)
    {
        var stderr = new StringWriter();
        int exit = CommandLine.Run(args, TextWriter.Null, stderr);
        return (exit, stderr.ToString().Trim());
    }
}
