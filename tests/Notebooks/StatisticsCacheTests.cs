using OptNeurons.Tests.Model;
using OptNeurons.Tests.Support;
using OptNeurons.Workbook;

namespace OptNeurons.Tests.Notebooks;

/// <summary>The notebooks' statistics cache: counted once, read back on a rerun, and a damaged entry says how to recover.</summary>
public sealed class StatisticsCacheTests : IDisposable
{
    readonly TempDirectory cache = new();
    readonly string? saved = Environment.GetEnvironmentVariable("OPTNEURONS_CACHE");

    public StatisticsCacheTests() => Environment.SetEnvironmentVariable("OPTNEURONS_CACHE", cache.Path);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("OPTNEURONS_CACHE", saved);
        cache.Dispose();
    }

    [Fact]
    public void Rerun_ReadsTheSameStatistics_AndADamagedEntryNamesTheFolderToDelete()
    {
        using var model = ReferenceTests.LoadFixtureModel();
        var data = new NotebookData(Fixtures.StatsSequences(), "the reference fixture's stats_sequences", null);
        var first = NotebookStatistics.Capture(model, "opt-tiny-pre-ln", Fixtures.TinyPreLn, null, data);
        var log = new StringWriter();
        var again = NotebookStatistics.Capture(model, "opt-tiny-pre-ln", Fixtures.TinyPreLn, null, data, log);
        Assert.Contains("already holds this job's finished statistics", log.ToString());
        Assert.Equal(first.ActiveCounts(2).ToArray(), again.ActiveCounts(2).ToArray());
        Assert.Equal(Fixtures.Reference().ActiveCounts[2], again.ActiveCounts(2).ToArray());   // and both are the reference's

        // Another dtype is another job: it gets a folder of its own instead of meeting the float32 one.
        using (var bf16 = OptNeurons.Loading.Pretrained.Load(Fixtures.TinyPreLn, "cpu", "bfloat16"))
            NotebookStatistics.Capture(bf16, "opt-tiny-pre-ln", Fixtures.TinyPreLn, null, data);
        var folders = Directory.GetDirectories(Path.Combine(cache.Path, "stats"));
        var bf16Folder = Assert.Single(folders, d => File.ReadAllText(Path.Combine(d, "capture.json")).Contains("\"dtype\": \"bfloat16\""));
        Assert.Equal(2, folders.Length);
        Directory.Delete(bf16Folder, recursive: true);

        var folder = Assert.Single(Directory.GetDirectories(Path.Combine(cache.Path, "stats")));
        using (var file = File.Open(Path.Combine(folder, "stats.safetensors"), FileMode.Open)) file.SetLength(file.Length / 2);
        var error = Assert.Throws<InvalidDataException>(() => NotebookStatistics.Capture(model, "opt-tiny-pre-ln", Fixtures.TinyPreLn, null, data));
        Assert.EndsWith($"The folder is a cache: delete {folder} to count these statistics anew.", error.Message);
    }
}
