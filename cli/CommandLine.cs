using OptNeurons.Runtime;

namespace OptNeurons.Cli;

/// <summary>
/// The optneurons commands behind one entry point. Every failure the user can fix (<see cref="UserErrors"/>) is
/// reported in one line on stderr with exit code 2; anything else is a bug and keeps its stack trace.
/// </summary>
static class CommandLine
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            return args switch
            {
                ["capture", "--help" or "-h"] => Write(stdout, CaptureCommand.Help),
                ["merge", "--help" or "-h"] => Write(stdout, MergeCommand.Help),
                ["train", "--help" or "-h"] => Write(stdout, TrainCommand.Help),
                ["measure", "--help" or "-h"] => Write(stdout, MeasureCommand.Help),
                ["capture", .. var rest] => CaptureCommand.Run(rest),
                ["merge", .. var rest] => MergeCommand.Run(rest),
                ["train", .. var rest] => TrainCommand.Run(rest),
                ["measure", .. var rest] => MeasureCommand.Run(rest),
                [] or ["help" or "--help" or "-h", ..] => Usage(stdout, 0),
                [var unknown, ..] => throw new ArgumentException($"unknown command '{unknown}'."),
            };
        }
        catch (Exception e) when (UserErrors.IsUsersToFix(e))
        {
            stderr.WriteLine($"error: {e.Message}");
            if (e is ArgumentException && e.Message.StartsWith("unknown command", StringComparison.Ordinal)) Usage(stderr, 2);
            return 2;
        }
    }

    static int Write(TextWriter w, string text)
    {
        w.WriteLine(text);
        return 0;
    }

    static int Usage(TextWriter w, int code)
    {
        foreach (var help in new[] { CaptureCommand.Help, MergeCommand.Help, TrainCommand.Help, MeasureCommand.Help }) w.WriteLine(help);
        return code;
    }
}
