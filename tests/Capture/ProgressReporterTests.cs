using OptNeurons.Capture;

namespace OptNeurons.Tests.Capture;

public class ProgressReporterTests
{
    [Fact]
    public void Line_GivesRateShareAndAnEtaInHoursPastADay()
    {
        var reporter = new ProgressReporter(totalTokens: 189_001_000, TextWriter.Null);
        reporter.Add(1_000);
        // 1,000 tokens in 1 s leaves 189,000 s: 52.5 hours, which an hh:mm:ss format would show as 04:30:00.
        Assert.Equal("1,000/189,001,000 tokens (0.0%), 1,000 tokens/s, ETA 52:30:00", reporter.Line(seconds: 1));
    }
}
