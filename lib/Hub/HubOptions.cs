namespace OptNeurons.Hub;

/// <summary>
/// How the Hub client finds its endpoint, cache, token and network policy. Every setting left null is read from the
/// environment with huggingface_hub's variable names and priorities (see <see cref="HubSettings"/>), so Python and C#
/// agree on where the cache is and which token to send.
/// </summary>
public sealed record HubOptions
{
    /// <summary>Branch, tag or 40-hex commit. Tags and branches with slashes (refs/pr/31, refs/convert/parquet) work as is.</summary>
    public string Revision { get; init; } = "main";

    /// <summary>Overrides HF_ENDPOINT (default https://huggingface.co).</summary>
    public string? Endpoint { get; init; }

    /// <summary>Overrides HF_HUB_CACHE / HUGGINGFACE_HUB_CACHE / $HF_HOME/hub, like huggingface_hub's cache_dir=.</summary>
    public string? CacheDir { get; init; }

    /// <summary>Overrides HF_TOKEN, HUGGING_FACE_HUB_TOKEN and the token file, like token=.</summary>
    public string? Token { get; init; }

    /// <summary>Overrides HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE: true uses the cache only and sends nothing.</summary>
    public bool? Offline { get; init; }

    /// <summary>Receives byte counts while a file downloads; <see cref="ConsoleDownloadProgress"/> draws a bar.</summary>
    public IProgress<DownloadProgress>? Progress { get; init; }

    /// <summary>
    /// The environment variables to read instead of the process's. When set, it replaces the process environment
    /// entirely, so tests can run in parallel with different caches and tokens without touching global state.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    public CancellationToken Cancellation { get; init; }

    /// <summary>Pause before re-requesting a body that broke off (huggingface_hub waits 1 s); tests shorten it.</summary>
    internal TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>The options with every environment fallback applied, computed once per call.</summary>
internal sealed record HubSettings(
    string Endpoint, string CacheDir, string? Token, bool Offline, bool SymlinksDisabled,
    TimeSpan EtagTimeout, TimeSpan DownloadTimeout, TimeSpan RetryDelay, IProgress<DownloadProgress>? Progress,
    CancellationToken Cancellation)
{
    public static HubSettings Resolve(HubOptions o)
    {
        string? Env(string name)
        {
            var value = o.Environment is { } env ? env.GetValueOrDefault(name) : System.Environment.GetEnvironmentVariable(name);
            return string.IsNullOrEmpty(value) ? null : value;
        }
        bool Truthy(string name) => Env(name)?.ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";
        TimeSpan Seconds(string name) => TimeSpan.FromSeconds(double.TryParse(Env(name), System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : 10);

        // constants.py: HF_ENDPOINT, else the staging hub when HUGGINGFACE_CO_STAGING is truthy, trailing '/' removed.
        var endpoint = (o.Endpoint ?? Env("HF_ENDPOINT") ?? (Truthy("HUGGINGFACE_CO_STAGING") ? "https://hub-ci.huggingface.co" : "https://huggingface.co")).TrimEnd('/');
        var home = Expand(Env("HF_HOME") ?? Path.Combine(Env("XDG_CACHE_HOME") ?? Path.Combine("~", ".cache"), "huggingface"), Env);
        var cache = o.CacheDir ?? Env("HF_HUB_CACHE") ?? Env("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(home, "hub");

        return new HubSettings(
            endpoint, Path.GetFullPath(Expand(cache, Env)), ResolveToken(o, home, Env, Truthy("HF_HUB_DISABLE_IMPLICIT_TOKEN")),
            o.Offline ?? (Truthy("HF_HUB_OFFLINE") || Truthy("TRANSFORMERS_OFFLINE")), Truthy("HF_HUB_DISABLE_SYMLINKS"),
            Seconds("HF_HUB_ETAG_TIMEOUT"), Seconds("HF_HUB_DOWNLOAD_TIMEOUT"), o.RetryDelay, o.Progress, o.Cancellation);
    }

    /// <summary>utils/_auth.py::get_token: explicit, then HF_TOKEN, HUGGING_FACE_HUB_TOKEN, then the token file.</summary>
    static string? ResolveToken(HubOptions o, string home, Func<string, string?> env, bool implicitDisabled)
    {
        if (o.Token is not null) return Clean(o.Token);
        if (implicitDisabled) return null;
        if (Clean(env("HF_TOKEN") ?? env("HUGGING_FACE_HUB_TOKEN")) is { } fromEnv) return fromEnv;
        var file = Expand(env("HF_TOKEN_PATH") ?? Path.Combine(home, "token"), env);
        return File.Exists(file) ? Clean(File.ReadAllText(file)) : null;
    }

    // An empty or whitespace token counts as none, as in huggingface_hub.
    static string? Clean(string? token) => token?.Replace("\r", "").Replace("\n", "").Trim() is { Length: > 0 } t ? t : null;

    /// <summary>os.path.expanduser + expandvars: a leading ~ and $VAR / ${VAR}; unknown variables stay as written.</summary>
    internal static string Expand(string path, Func<string, string?> env)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
            path = (env("HOME") ?? System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile)) + path[1..];
        return System.Text.RegularExpressions.Regex.Replace(path, @"\$(\w+)|\$\{(\w+)\}",
            m => env(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value) ?? m.Value);
    }
}
