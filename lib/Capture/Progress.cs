using System.Diagnostics;

namespace OptNeurons.Capture;

/// <summary>Tokens done, rate and estimated time left of a long run, printed at most every few seconds.</summary>
public sealed class ProgressReporter(long totalTokens, TextWriter writer, double intervalSeconds = 2.0)
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    double lastPrint = double.NegativeInfinity;
    long done;

    public void Add(long tokens)
    {
        done += tokens;
        double now = clock.Elapsed.TotalSeconds;
        if (now - lastPrint < intervalSeconds && done < totalTokens) return;
        lastPrint = now;
        writer.WriteLine(Line(now));
    }

    public string Line(double seconds)
    {
        double rate = done / Math.Max(seconds, 1e-9);
        var eta = rate > 0 ? TimeSpan.FromSeconds((totalTokens - done) / rate) : TimeSpan.Zero;
        return $"{done:N0}/{totalTokens:N0} tokens ({100.0 * done / Math.Max(totalTokens, 1):F1}%), {rate:N0} tokens/s, ETA {(int)eta.TotalHours:00}:{eta:mm\\:ss}";   // hours past 24, not days dropped
    }

    public double Seconds => clock.Elapsed.TotalSeconds;
}
