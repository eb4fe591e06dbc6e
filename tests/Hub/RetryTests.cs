using OptNeurons.Hub;

namespace OptNeurons.Tests.Hub;

/// <summary>A failing HEAD falls back to the cache, and otherwise gets huggingface_hub's one round of retries.</summary>
public sealed class RetryTests : IDisposable
{
    readonly HubTestContext t = new();
    public void Dispose() => t.Dispose();

    IEnumerable<SeenRequest> Heads => t.Hub.Requests.Where(r => r.Method == "HEAD" && r.Path.Contains("/resolve/", StringComparison.Ordinal));

    [Fact]
    public void ServerError_WithACachedCopy_ServesTheCacheAtOnce()
    {
        var cached = HubFile.Download("facebook/opt-125m", "config.json", t.Options());
        t.Hub.ClearRequests();
        t.Hub.FailResolve(503, times: 100);

        Assert.Equal(cached, HubFile.Download("facebook/opt-125m", "config.json", t.Options()));
        Assert.Single(Heads);
    }

    [Fact]
    public void RateLimited_WaitsAsTheHubSays_ThenDownloads()
    {
        t.Hub.FailResolve(429, times: 1);

        var path = HubFile.Download("facebook/opt-125m", "config.json", t.Options());

        Assert.Equal(t.Hub.Model.File("main", "config.json").Content, File.ReadAllBytes(path));
        Assert.Equal(2, Heads.Count(r => r.Path == "/facebook/opt-125m/resolve/main/config.json"));
    }

    [Fact]
    public void RateLimitedDownload_WaitsAsTheHubSays_ThenFinishes()
    {
        t.Hub.RateLimitDownloads(times: 2);   // each 429 says "0 s left in this window": wait t + 1 = 1 s

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var path = HubFile.Download("facebook/opt-125m", "config.json", t.Options());

        Assert.Equal(t.Hub.Model.File("main", "config.json").Content, File.ReadAllBytes(path));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"waited {clock.Elapsed.TotalSeconds:F2} s, not the 2 × 1 s the Hub asked");
        Assert.Equal(3, t.Hub.Requests.Count(r => r.Method == "GET"));
    }

    [Fact]
    public void ALaterPageOfTheFileListFailingOnce_IsRetried()
    {
        t.Hub.FailLaterTreePages(503, times: 2);

        var dir = HubSnapshot.Ensure("facebook/opt-125m", t.Options());

        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.Equal(5, t.Hub.Requests.Count(r => r.Path.Contains("/tree/", StringComparison.Ordinal)));   // 3 pages, page 2 twice more
    }

    [Fact]
    public void PersistentServerError_WithNothingCached_GivesUpAfterFiveRetries_SayingWhy()
    {
        t.Hub.FailResolve(500, times: 100);

        var e = Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "config.json", t.Options()));

        Assert.Equal(HubErrorKind.NotCached, e.Kind);
        Assert.Contains("'config.json' of facebook/opt-125m at revision 'main' is not in the cache", e.Message);
        Assert.Contains("HTTP 500", e.Message);
        Assert.Contains("mock outage", e.Message);
        Assert.Equal(6, Heads.Count());
    }

    [Fact]
    public void ClientError_IsNotRetried()
    {
        t.Hub.FailResolve(400, times: 100);

        Assert.Throws<HubException>(() => HubFile.Download("facebook/opt-125m", "config.json", t.Options()));

        Assert.Single(Heads);
    }
}
