using OptNeurons.Cli;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Capture;

/// <summary>The optneurons entry point: a failure the user can fix is one line on stderr and exit code 2.</summary>
public class CommandLineTests
{
    [Fact]
    public void AModelTheHubCannotGive_IsOneLine_NotACrash()
    {
        using var dir = new TempDirectory();
        var input = dir.Sub("batch.json");
        File.WriteAllText(input, """{"input_ids": [[2, 10, 11]]}""");
        var saved = (Environment.GetEnvironmentVariable("HF_HUB_OFFLINE"), Environment.GetEnvironmentVariable("HF_HUB_CACHE"));
        Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", "1");   // nothing leaves this machine
        Environment.SetEnvironmentVariable("HF_HUB_CACHE", dir.Sub("hub"));
        try
        {
            var (exit, stderr) = Run("capture", "--model", "someone/no-such-model", "--json", input, "--out", dir.Sub("out"));
            Assert.Equal(2, exit);
            Assert.StartsWith("error: ", stderr);
            Assert.Contains("someone/no-such-model", stderr);
            Assert.Contains("Offline mode", stderr);
            Assert.Contains("Nor is there a local folder", stderr);   // "someone/no-such-model" could have been a relative path
            Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
        finally
        {
            Environment.SetEnvironmentVariable("HF_HUB_OFFLINE", saved.Item1);
            Environment.SetEnvironmentVariable("HF_HUB_CACHE", saved.Item2);
        }
    }

    [Fact]
    public void FileAndArgumentErrors_AreOneLine_AndAnUnknownCommandShowsTheUsage()
    {
        var (exit, stderr) = Run("capture", "--model", "/no/such-folder", "--json", Path.Combine(Fixtures.TinyPreLn, "config.json"), "--out", "o");
        Assert.Equal((2, "error: /no/such-folder: checkpoint folder does not exist; expected a HuggingFace snapshot folder with config.json and weights.\n"),
                     (exit, stderr.ReplaceLineEndings("\n")));

        (exit, stderr) = Run("frobnicate");
        Assert.Equal(2, exit);
        Assert.StartsWith("error: unknown command 'frobnicate'.", stderr);
        Assert.Contains("usage: optneurons capture", stderr);
    }

    [Theory]
    [InlineData("error: unknown option(s): --frobnicate.", "--out", "o", "--frobnicate")]   // not "needs a value"
    [InlineData("error: option --out needs a value.", "--out")]
    [InlineData("error: write --out o, with a space: options do not take '='.", "--out=o")]
    [InlineData("error: option --batch-size is given twice.", "--batch-size", "2", "--out", "o", "--batch-size", "4")]
    [InlineData("error: --tokens and --full-length sample a named corpus: they apply to --data only.", "--out", "o", "--tokens", "5")]
    [InlineData("error: --ngram-orders lists an order twice: '1,1'.", "--out", "o", "--ngram-orders", "1,1")]
    public void OptionMistakes_AreNamedForWhatTheyAre(string expected, params string[] options)
    {
        var (exit, stderr) = Run(["capture", "--model", Fixtures.TinyPreLn, "--json", Path.Combine(Fixtures.TinyPreLn, "config.json"), .. options]);
        Assert.Equal((2, expected), (exit, stderr.Trim()));
    }

    [Fact]
    public void InputWithNothingToCount_NamesTheFile()
    {
        using var dir = new TempDirectory();
        var input = dir.Sub("empty-rows.json");
        File.WriteAllText(input, """{"input_ids": [[]]}""");
        var (exit, stderr) = Run("capture", "--model", Fixtures.TinyPreLn, "--json", input, "--out", dir.Sub("out"));
        Assert.Equal((2, $"error: {input} holds no token to count: every row is empty or masked out."), (exit, stderr.Trim()));
        (exit, stderr) = Run("capture", "--model", Fixtures.TinyPreLn, "--revision", "v1", "--json", input, "--out", dir.Sub("out"));
        Assert.Equal((2, $"error: --revision picks a version of a hub model; {Fixtures.TinyPreLn} is a local folder, which has only the one it holds."), (exit, stderr.Trim()));
        (exit, stderr) = Run("capture", "--model", "", "--json", input, "--out", dir.Sub("out"));
        Assert.Equal((2, "error: option --model is given an empty value."), (exit, stderr.Trim()));
    }

    static (int Exit, string Stderr) Run(params string[] args)
    {
        var stderr = new StringWriter();
        int exit = CommandLine.Run(args, new StringWriter(), stderr);
        return (exit, stderr.ToString());
    }
}
