using System.Globalization;

namespace OptNeurons.Hub;

/// <summary>
/// One progress event of a file download. The first event of a file has <see cref="BytesDone"/> equal to
/// <see cref="ResumedFrom"/> (0 unless a partial download is resumed); the last has BytesDone equal to TotalBytes.
/// </summary>
public sealed record DownloadProgress(string Repo, string File, long BytesDone, long TotalBytes, long ResumedFrom, TimeSpan Elapsed)
{
    public bool IsComplete => BytesDone >= TotalBytes;

    /// <summary>Speed of this run only: bytes resumed from an earlier run do not count.</summary>
    public double BytesPerSecond => Elapsed > TimeSpan.Zero ? (BytesDone - ResumedFrom) / Elapsed.TotalSeconds : 0;

    public TimeSpan? Eta => IsComplete ? TimeSpan.Zero : BytesPerSecond > 0 ? TimeSpan.FromSeconds((TotalBytes - BytesDone) / BytesPerSecond) : null;
}

/// <summary>
/// Draws a progress bar per file: name, bar, MB done of total, MB/s and ETA. On a terminal it redraws one line in
/// place; into a log (redirected output) it writes a line every few seconds instead, so logs stay readable.
/// </summary>
public sealed class ConsoleDownloadProgress(TextWriter writer, bool redraw, double intervalSeconds) : IProgress<DownloadProgress>
{
    readonly Lock gate = new();
    TimeSpan lastDrawn = TimeSpan.MinValue;
    string? lastFile;

    /// <summary>Standard error, redrawn in place when it is a terminal.</summary>
    public ConsoleDownloadProgress() : this(Console.Error, !Console.IsErrorRedirected, Console.IsErrorRedirected ? 5.0 : 0.2) { }

    public void Report(DownloadProgress p)
    {
        lock (gate)
        {
            bool newFile = p.File != lastFile;
            if (!newFile && !p.IsComplete && p.Elapsed - lastDrawn < TimeSpan.FromSeconds(intervalSeconds)) return;
            (lastFile, lastDrawn) = (p.File, p.Elapsed);
            if (redraw) writer.Write($"\r{Format(p),-100}{(p.IsComplete ? "\n" : "")}");
            else writer.WriteLine(Format(p));
            writer.Flush();
        }
    }

    /// <summary>"config.json  [##########----------]  50%  1.2/2.4 MB  3.1 MB/s  ETA 0:00:01".</summary>
    public static string Format(DownloadProgress p)
    {
        const int width = 20;
        double fraction = p.TotalBytes > 0 ? Math.Min(1.0, (double)p.BytesDone / p.TotalBytes) : 1.0;
        int filled = (int)(fraction * width);
        var eta = p.Eta is { } t ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : "?";
        return string.Create(CultureInfo.InvariantCulture,
            $"{p.File}  [{new string('#', filled)}{new string('-', width - filled)}] {fraction * 100,3:0}%  " +
            $"{p.BytesDone / 1e6:0.0}/{p.TotalBytes / 1e6:0.0} MB  {p.BytesPerSecond / 1e6:0.0} MB/s  ETA {eta}");
    }
}
