using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace OptNeurons.Hub;

/// <summary>What went wrong, in huggingface_hub's terms, so callers can branch without parsing messages.</summary>
public enum HubErrorKind
{
    RepositoryNotFound, GatedRepo, RevisionNotFound, EntryNotFound, AccessDenied, Http,
    /// <summary>No answer from the Hub: connection refused or reset, timeout.</summary>
    Network,
    /// <summary>Offline (or unreachable Hub) and the file or revision is not in the cache.</summary>
    NotCached,
    /// <summary>The downloaded bytes do not have the size or SHA-256 the Hub announced.</summary>
    Integrity,
    /// <summary>A response lacks X-Repo-Commit, an ETag or a size: not the Hub, or a proxy in the way.</summary>
    BadMetadata,
}

public sealed partial class HubException(HubErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public HubErrorKind Kind { get; } = kind;
    public int? StatusCode { get; init; }

    /// <summary>X-Repo-Commit of an error response: the Hub sends it with EntryNotFound, which the cache records.</summary>
    public string? Commit { get; init; }

    /// <summary>How long a 429 asks to wait: RateLimit's t (when r=0) plus one second, else a numeric Retry-After.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The failures huggingface_hub retries with backoff: no answer, or 408, 429, 500, 502, 503, 504.</summary>
    public bool IsRetryable => Kind == HubErrorKind.Network || StatusCode is 408 or 429 or 500 or 502 or 503 or 504;

    // RateLimit: "resolvers";r=0;t=172 — no requests left in this window, which resets in t seconds.
    [GeneratedRegex(@"\br=0;t=(\d+)")]
    private static partial Regex RateLimitReset();

    const string TokenHint = "set HF_TOKEN (or log in so that $HF_HOME/token exists) and accept the licence at";

    /// <summary>utils/_http.py::hf_raise_for_status, in the same order: X-Error-Code first, then the status.</summary>
    internal static async Task<HubException> FromResponseAsync(HttpResponseMessage r, HubRepo repo, string revision, string? file, string endpoint)
    {
        string? Header(string name) => r.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault() : null;
        var code = Header("X-Error-Code");
        var serverMessage = Header("X-Error-Message");
        int status = (int)r.StatusCode;
        var what = file is null ? $"{repo} at revision '{revision}'" : $"'{file}' of {repo} at revision '{revision}'";
        var licence = repo.WebUrl(endpoint);
        bool repoUrl = r.RequestMessage?.RequestUri?.AbsolutePath is { } p && (p.Contains("/resolve/", StringComparison.Ordinal) || p.StartsWith("/api/", StringComparison.Ordinal));

        var retryAfter = RetryAfterOf(r);

        var (kind, text) = (code, status) switch
        {
            ("RevisionNotFound", _) => (HubErrorKind.RevisionNotFound, $"Revision '{revision}' not found in {repo}."),
            ("EntryNotFound", _) => (HubErrorKind.EntryNotFound, $"File '{file}' not found in {repo} at revision '{revision}'."),
            ("GatedRepo", _) => (HubErrorKind.GatedRepo, $"{repo} is gated and {what} was refused ({status}): {TokenHint} {licence}."),
            _ when serverMessage == "Access to this resource is disabled." => (HubErrorKind.AccessDenied, $"{repo} has been disabled on the Hub."),
            ("RepoNotFound", _) => (HubErrorKind.RepositoryNotFound, RepoNotFound()),
            (_, 401) when repoUrl && serverMessage != "Invalid credentials in Authorization header" => (HubErrorKind.RepositoryNotFound, RepoNotFound()),
            (_, 401) => (HubErrorKind.AccessDenied, $"The Hub rejected the token for {what} (401): {TokenHint} {licence}."),
            (_, 429) => (HubErrorKind.Http, $"The Hub is rate-limiting requests (429) for {what}" +
                (retryAfter is { } wait ? $"; wait {wait.TotalSeconds:0} s." : ".")),
            (_, 403) => (HubErrorKind.AccessDenied, $"Access to {what} is forbidden (403): make sure the token has read permission, {TokenHint} {licence}."),
            _ => (HubErrorKind.Http, $"HTTP {status} {r.ReasonPhrase} for {what}."),
        };
        return new HubException(kind, text + await DetailsAsync(r, serverMessage, Header("X-Request-Id")).ConfigureAwait(false))
        {
            StatusCode = status,
            Commit = Header("X-Repo-Commit"),
            RetryAfter = retryAfter,
        };

        string RepoNotFound() => $"{repo} not found, or private or gated and not readable without a token ({status}): check the id, then {TokenHint} {licence}.";
    }

    /// <summary>How long a 429 asks to wait (see <see cref="RetryAfter"/>); null for any other response.</summary>
    internal static TimeSpan? RetryAfterOf(HttpResponseMessage r)
    {
        string? Header(string name) => r.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault() : null;
        if ((int)r.StatusCode != 429) return null;
        if (Header("RateLimit") is { } limit && RateLimitReset().Match(limit) is { Success: true } m)
            return TimeSpan.FromSeconds(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1);
        return int.TryParse(Header("Retry-After"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : null;
    }

    // The server's own words ({"error": ...} or X-Error-Message) and the request id help a maintainer find the request.
    static async Task<string> DetailsAsync(HttpResponseMessage r, string? serverMessage, string? requestId)
    {
        var message = serverMessage;
        try
        {
            var body = await r.Content.ReadAsStringAsync().ConfigureAwait(false);
            if (message is null && body.StartsWith('{'))
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.TryGetProperty("error", out var e)) message = e.ToString();
            }
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or IOException) { }
        return (message is null ? "" : $" Server: {message}") + (requestId is null ? "" : $" (Request ID: {requestId})");
    }

    internal static HubException Network(string what, Exception inner) =>
        new(HubErrorKind.Network, $"Could not reach the Hub for {what}: {inner.Message}", inner);
}
