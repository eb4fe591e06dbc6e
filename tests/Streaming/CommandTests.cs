using System.Text.Json;
using OptNeurons.Capture;
using OptNeurons.Cli;
using OptNeurons.Tests.Support;
using static OptNeurons.Tests.Streaming.StreamingTestData;

namespace OptNeurons.Tests.Streaming;

/// <summary>capture --streamed / --shard and merge, as a user runs them.</summary>
public class CommandTests
{
    static string Input(TempDirectory dir)
    {
        var path = dir.Sub("sequences.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new { input_ids = Fixtures.StatsSequences() }));
        return path;
    }

    static string[] Capture(string input, string output, params string[] more) =>
        ["--model", Fixtures.TinyPreLn, "--json", input, "--out", output, "--device", "cpu", "--batch-size", "2", "--sketch-capacity", "256", .. more];

    [Fact]
    public void StreamedWithBudget_ShardedAndMerged_AllEqualTheFullModelCapture()
    {
        using var dir = new TempDirectory();
        var input = Input(dir);
        Assert.Equal(0, CaptureCommand.Run(Capture(input, dir.Sub("full"))));
        var expected = Bytes(dir.Sub("full"));

        Assert.Equal(0, CaptureCommand.Run(Capture(input, dir.Sub("streamed"), "--streamed", "--memory-budget", "40MB", "--residual", "host")));
        AssertSameBytes(expected, Bytes(dir.Sub("streamed")));
        Assert.Equal(0, CaptureCommand.Run(Capture(input, dir.Sub("spilled"), "--streamed", "--chunk-size", "4", "--spill", dir.Sub("spill"), "--layers", "3")));
        AssertSameBytes(expected, Bytes(dir.Sub("spilled")));

        var shards = new[] { "0/3", "1/3", "2/3" }.Select(s => dir.Sub("shard-" + s[0])).ToArray();
        for (int i = 0; i < 3; i++)
        {
            string[] mode = i == 1 ? ["--streamed"] : [];   // shards may run in either mode
            Assert.Equal(0, CaptureCommand.Run(Capture(input, shards[i], ["--shard", $"{i}/3", .. mode])));
        }
        Assert.Equal(0, MergeCommand.Run(["--out", dir.Sub("merged"), shards[2], shards[0], shards[1]]));
        AssertSameBytes(expected, Bytes(dir.Sub("merged")));
        Assert.Contains("shard 1/3 missing", Assert.Throws<ArgumentException>(() => MergeCommand.Run(["--out", dir.Sub("m2"), shards[0], shards[2]])).Message);
    }

    [Fact]
    public void BudgetTooSmall_AndOptionsThatNeedTheOtherMode_AreRefused()
    {
        using var dir = new TempDirectory();
        var input = Input(dir);
        string Refusal(params string[] more) => Assert.Throws<ArgumentException>(() => CaptureCommand.Run(Capture(input, dir.Sub("out"), more))).Message;
        Assert.Contains("is too small", Refusal("--streamed", "--memory-budget", "1MB"));
        Assert.Contains("apply to --streamed captures only", Refusal("--spill", dir.Sub("spill")));
        Assert.Contains("need the whole model in memory", Refusal("--streamed", "--logits"));
        Assert.Contains("not i/n", Refusal("--shard", "3/3"));
        Assert.Contains("not a size", Refusal("--streamed", "--memory-budget", "lots"));
        Assert.Contains("unknown device 'tpu'", Assert.Throws<ArgumentException>(() => CaptureCommand.Run(["--model", Fixtures.TinyPreLn, "--json", input, "--out", dir.Sub("out"), "--device", "tpu"])).Message);
        foreach (string[] mode in new[] { Array.Empty<string>(), ["--streamed"] })
            Assert.Matches(@"^cannot capture the first 99 layers of a model with \d+: the layer count must be 1 to \d+\.$", Refusal(["--layers", "99", .. mode]));
        var blocked = dir.Sub("a-file");
        File.WriteAllText(blocked, "");   // a file where the spill folder should be
        var spill = Assert.Throws<IOException>(() => CaptureCommand.Run(Capture(input, dir.Sub("out"), "--streamed", "--spill", Path.Combine(blocked, "spill"))));
        Assert.StartsWith($"cannot create the residual's spill file in '{Path.Combine(blocked, "spill")}'", spill.Message);
        Assert.Contains("option --out is required", Assert.Throws<ArgumentException>(() => MergeCommand.Run([dir.Path])).Message);
    }
}
