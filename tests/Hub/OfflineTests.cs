using OptNeurons.Hub;

namespace OptNeurons.Tests.Hub;

/// <summary>Offline mode reads the cache only, sends nothing, and names the repo, revision and file it lacks.</summary>
public sealed class OfflineTests : IDisposable
{
    readonly HubTestContext t = new();
    public void Dispose() => t.Dispose();

    [Fact]
    public void Offline_Hit_ReturnsTheCachedFilesWithoutAnyRequest()
    {
        var online = HubSnapshot.Ensure("facebook/opt-125m", t.Options());
        t.Hub.ClearRequests();

        Assert.Equal(online, HubSnapshot.Ensure("facebook/opt-125m", t.Options(env: ("HF_HUB_OFFLINE", "1"))));
        Assert.Equal(Path.Combine(online, "vocab.json"), HubFile.Download("facebook/opt-125m", "vocab.json", t.Options() with { Offline = true }));
        Assert.Empty(t.Hub.Requests);
    }

    [Fact]
    public void Offline_Miss_NamesRepoRevisionAndFile_AndSendsNothing()
    {
        var e = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "config.json", t.Options(env: ("HF_HUB_OFFLINE", "yes"))));

        Assert.Equal(HubErrorKind.NotCached, e.Kind);
        Assert.Contains("Offline mode", e.Message);
        Assert.Contains("'config.json' of facebook/opt-125m at revision 'main'", e.Message);
        Assert.Contains("no refs/main", e.Message);
        Assert.Empty(t.Hub.Requests);
    }

    [Fact]
    public void Offline_KnownRevisionButMissingFile_SaysWhichSnapshotLacksIt()
    {
        HubFile.Download("facebook/opt-125m", "config.json", t.Options("v1.0"));
        var v1 = t.Hub.Model.Refs["v1.0"];

        var e = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "merges.txt", t.Options("v1.0") with { Offline = true }));

        Assert.Contains("'merges.txt' of facebook/opt-125m at revision 'v1.0'", e.Message);
        Assert.Contains($"snapshots/{v1}/merges.txt is missing", e.Message);
    }

    [Fact]
    public void Offline_IncompleteSnapshot_ListsTheMissingFiles()
    {
        var dir = HubSnapshot.Ensure("facebook/opt-125m", t.Options());
        File.Delete(Path.Combine(dir, "merges.txt"));

        var e = Assert.Throws<HubException>(() => HubSnapshot.Ensure("facebook/opt-125m", t.Options() with { Offline = true }));

        Assert.Equal(HubErrorKind.NotCached, e.Kind);
        Assert.Contains("facebook/opt-125m at revision 'main'", e.Message);
        Assert.Contains("lacks merges.txt", e.Message);
    }

    [Fact]
    public void UnreachableHub_FallsBackToTheCache_AndOtherwiseSaysWhy()
    {
        var online = HubFile.Download("facebook/opt-125m", "config.json", t.Options());
        var closedPort = t.Options(env: ("HF_ENDPOINT", "http://127.0.0.1:9"));   // discard port: nothing listens

        Assert.Equal(online, HubFile.Download("facebook/opt-125m", "config.json", closedPort));
        Assert.Equal(Path.GetDirectoryName(online), HubSnapshot.Ensure("facebook/opt-125m", closedPort, new SnapshotFilter(["config.json"])));
        var e = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "vocab.json", closedPort));
        Assert.Equal(HubErrorKind.NotCached, e.Kind);
        Assert.Contains("'vocab.json' of facebook/opt-125m at revision 'main' is not in the cache", e.Message);
        Assert.Contains("Could not reach the Hub", e.Message);
    }
}
