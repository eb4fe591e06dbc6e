using OptNeurons.Hub;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Hub;

/// <summary>
/// One mock Hub and one private HF_HOME per test. The environment goes in through HubOptions.Environment, never the
/// process environment, so tests run in parallel and the real ~/.cache/huggingface is never touched.
/// </summary>
public sealed class HubTestContext : IDisposable
{
    public MockHub Hub { get; } = new();
    public TempDirectory Home { get; } = new();
    public string Cache => Path.Combine(Home.Path, "hub");

    /// <summary>Options whose environment holds HF_HOME and HF_ENDPOINT, plus any extra variables given.</summary>
    public HubOptions Options(string revision = "main", params (string Name, string Value)[] env)
    {
        var vars = new Dictionary<string, string> { ["HF_HOME"] = Home.Path, ["HF_ENDPOINT"] = Hub.Url };
        foreach (var (name, value) in env) vars[name] = value;
        return new HubOptions { Revision = revision, Environment = vars, RetryDelay = TimeSpan.Zero };
    }

    public string RepoDir(MockRepo repo) => Path.Combine(Cache, $"{repo.Kind}--{repo.Id.Replace("/", "--", StringComparison.Ordinal)}");

    /// <summary>Requests that reached the fake CDN host.</summary>
    public IReadOnlyList<SeenRequest> CdnRequests => [.. Hub.Requests.Where(r => r.Path.StartsWith("/cdn/", StringComparison.Ordinal))];

    public void Dispose()
    {
        Hub.Dispose();
        Home.Dispose();
    }
}

/// <summary>Collects progress events synchronously (Progress&lt;T&gt; would post them to the thread pool, out of order).</summary>
public sealed class ProgressLog : IProgress<DownloadProgress>
{
    readonly List<DownloadProgress> events = [];
    public IReadOnlyList<DownloadProgress> Events { get { lock (events) return [.. events]; } }
    public void Report(DownloadProgress value) { lock (events) events.Add(value); }
}
