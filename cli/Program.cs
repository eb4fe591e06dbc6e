using System.Globalization;
using OptNeurons.Cli;

// optneurons: command-line entry point. Every failure the user can fix is reported in one line, exit code 2.
// Numbers print as the English around them reads them (1,234.5), whatever the machine's locale.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
try
{
    return args switch
    {
        ["capture", "--help" or "-h"] => Help(CaptureCommand.Help),
        ["merge", "--help" or "-h"] => Help(MergeCommand.Help),
        ["train", "--help" or "-h"] => Help(TrainCommand.Help),
        ["measure", "--help" or "-h"] => Help(MeasureCommand.Help),
        ["capture", .. var rest] => CaptureCommand.Run(rest),
        ["merge", .. var rest] => MergeCommand.Run(rest),
        ["train", .. var rest] => TrainCommand.Run(rest),
        ["measure", .. var rest] => MeasureCommand.Run(rest),
        [] or ["help" or "--help" or "-h", ..] => Usage(Console.Out, 0),
        [var unknown, ..] => throw new ArgumentException($"unknown command '{unknown}'."),
    };
}
catch (Exception e) when (e is ArgumentException or InvalidDataException or IOException or NotSupportedException or UnauthorizedAccessException or InvalidOperationException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    if (e is ArgumentException && e.Message.StartsWith("unknown command", StringComparison.Ordinal)) Usage(Console.Error, 2);
    return 2;
}

static int Help(string text)
{
    Console.Out.WriteLine(text);
    return 0;
}

static int Usage(TextWriter w, int code)
{
    w.WriteLine(CaptureCommand.Help);
    w.WriteLine(MergeCommand.Help);
    w.WriteLine(TrainCommand.Help);
    w.WriteLine(MeasureCommand.Help);
    return code;
}

