using OptNeurons.Hub;

namespace OptNeurons.Tests.Hub;

/// <summary>Progress events run from the resume point to the total, and the console line shows bytes, MB/s and ETA.</summary>
public sealed class ProgressTests : IDisposable
{
    readonly HubTestContext t = new();
    public void Dispose() => t.Dispose();

    [Fact]
    public void Download_ReportsFromZeroToTheTotal_InOrder()
    {
        var log = new ProgressLog();

        HubFile.Download("facebook/opt-125m", "model.safetensors", t.Options() with { Progress = log });

        var events = log.Events;
        Assert.True(events.Count >= 2);
        Assert.All(events, e => Assert.Equal(("facebook/opt-125m", "model.safetensors", 300_000L), (e.Repo, e.File, e.TotalBytes)));
        Assert.Equal(0, events[0].BytesDone);
        Assert.False(events[0].IsComplete);
        Assert.Equal(300_000, events[^1].BytesDone);
        Assert.True(events[^1].IsComplete);
        Assert.Equal(TimeSpan.Zero, events[^1].Eta);
        Assert.Equal(events.Select(e => e.BytesDone).Order(), events.Select(e => e.BytesDone));
    }

    [Fact]
    public void ResumedDownload_StartsAtTheResumePoint_AndRatesOnlyNewBytes()
    {
        var weights = t.Hub.Model.File("main", "model.safetensors");
        var blobs = Directory.CreateDirectory(Path.Combine(t.RepoDir(t.Hub.Model), "blobs")).FullName;
        File.WriteAllBytes(Path.Combine(blobs, weights.Sha256 + ".incomplete"), weights.Content[..200_000]);
        var log = new ProgressLog();

        HubFile.Download("facebook/opt-125m", "model.safetensors", t.Options() with { Progress = log });

        Assert.Equal((200_000L, 200_000L), (log.Events[0].BytesDone, log.Events[0].ResumedFrom));
        Assert.Equal(300_000, log.Events[^1].BytesDone);
    }

    [Fact]
    public void CachedFile_ReportsNothing()
    {
        HubFile.Download("facebook/opt-125m", "config.json", t.Options());
        var log = new ProgressLog();

        HubFile.Download("facebook/opt-125m", "config.json", t.Options() with { Progress = log });

        Assert.Empty(log.Events);
    }

    [Fact]
    public void ConsoleLine_ShowsBarBytesSpeedAndEta()
    {
        var p = new DownloadProgress("facebook/opt-125m", "model.safetensors", 50_000_000, 200_000_000, 0, TimeSpan.FromSeconds(10));

        Assert.Equal("model.safetensors  [#####---------------]  25%  50.0/200.0 MB  5.0 MB/s  ETA 0:00:30", ConsoleDownloadProgress.Format(p));
        Assert.Equal(1e6, (p with { ResumedFrom = 40_000_000 }).BytesPerSecond);
    }

    [Fact]
    public void ConsoleRenderer_ToALog_WritesTheFirstAndLastEventOfAFile()
    {
        var writer = new StringWriter { NewLine = "\n" };
        var renderer = new ConsoleDownloadProgress(writer, redraw: false, intervalSeconds: 3600);
        foreach (long done in new long[] { 0, 10, 20, 30 })
            renderer.Report(new DownloadProgress("r/m", "f.bin", done, 30, 0, TimeSpan.FromSeconds(done)));

        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("f.bin  [--------------------]   0%", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("f.bin  [####################] 100%", lines[1], StringComparison.Ordinal);
    }
}
