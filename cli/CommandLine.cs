using OptNeurons.Runtime;

namespace OptNeurons.Cli;

/// <summary>
/// The optneurons commands behind one entry point. Every failure the user can fix (<see cref="UserErrors"/>) is
/// reported in one line on stderr with exit code 2, and so is running out of memory, with what to ask for less of;
/// anything else is a bug and keeps its stack trace.
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
        catch (Exception e) when (UserErrors.IsOutOfMemory(e))
        {
            stderr.WriteLine($"error: {UserErrors.OutOfMemory(e)}");
            if (MemoryAdvice(args) is { } advice) stderr.WriteLine(advice);
            return 2;
        }
    }

    /// <summary>What a command can be asked to need less of.</summary>
    static string? MemoryAdvice(string[] args) => args.FirstOrDefault() switch
    {
        "capture" => "  a capture needs less with a smaller --batch-size; with --streamed and a --memory-budget below the free " +
                     "memory, which chooses batch and chunk sizes for it; with --residual host or disk; with --layers K; " +
                     "or with --no-positions and --ngram-orders none, the largest statistics.",
        "train" => "  training needs less with a smaller --batch-size or --context.",
        _ => null,
    };

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
