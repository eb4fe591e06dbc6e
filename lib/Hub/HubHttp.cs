using System.Net;

namespace OptNeurons.Hub;

/// <summary>How a request treats 3xx answers.</summary>
internal enum Redirects
{
    /// <summary>The metadata HEAD: follow relative redirects (path only, query dropped), stop at absolute ones (the CDN).</summary>
    RelativeOnly,
    /// <summary>Downloads and API calls: follow every redirect, query included.</summary>
    All,
}

/// <summary>
/// The one HTTP client of the Hub code. Redirects are followed by hand because the metadata HEAD must stop at the
/// CDN's absolute redirect and read the Hub's headers from the 3xx itself (file_download.py::get_hf_file_metadata),
/// and because the token may only ever go to the endpoint's own origin: the CDN's URLs are pre-signed.
/// </summary>
internal static class HubHttp
{
    static readonly HttpClient Client = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),   // CDN hosts rotate behind DNS
    })
    { Timeout = Timeout.InfiniteTimeSpan };   // each call sets its own deadline

    static readonly string UserAgent = $"optneurons-hub/0.1; dotnet/{Environment.Version}";
    const int MaxHops = 10;

    /// <summary>
    /// Sends method to url (adding Range: bytes=rangeFrom- when rangeFrom > 0) and returns the response with its body
    /// unread. Network failures and the deadline become <see cref="HubErrorKind.Network"/> errors naming what.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, Uri url, HubSettings s, Redirects redirects, TimeSpan deadline, string what, long rangeFrom = 0)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(s.Cancellation);
        timeout.CancelAfter(deadline);
        var current = url;
        try
        {
            for (int hop = 0; ; hop++)
            {
                using var request = Build(method, current, s, rangeFrom);
                var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                var location = response.Headers.TryGetValues("Location", out var l) ? l.First() : null;
                if (status is < 300 or >= 400 || location is null) return response;
                bool absolute = IsAbsolute(location);
                if (redirects == Redirects.RelativeOnly && absolute) return response;
                if (hop == MaxHops) { response.Dispose(); throw new HubException(HubErrorKind.Http, $"More than {MaxHops} redirects for {what}, last to {location}."); }
                response.Dispose();
                // The metadata loop keeps only the Location's path: huggingface_hub drops its query (…?etag=…).
                current = absolute
                    ? new Uri(location.StartsWith("//", StringComparison.Ordinal) ? $"{current.Scheme}:{location}" : location)
                    : new Uri(current, new Uri(redirects == Redirects.All ? location : location.Split('?')[0], UriKind.Relative));
            }
        }
        catch (OperationCanceledException e) when (!s.Cancellation.IsCancellationRequested)
        {
            throw HubException.Network(what, new TimeoutException($"no response from {current.GetLeftPart(UriPartial.Path)} within {deadline.TotalSeconds:0.#} s", e));
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw HubException.Network(what, e);
        }
    }

    static HttpRequestMessage Build(HttpMethod method, Uri url, HubSettings s, long rangeFrom)
    {
        var request = new HttpRequestMessage(method, url);
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        request.Headers.TryAddWithoutValidation("X-Amzn-Trace-Id", Guid.NewGuid().ToString());
        // identity on every request, not only the HEAD: Content-Length is then the file's size and a Range counts
        // file bytes, so resume and the size check hold for text files the Hub would otherwise gzip.
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "identity");
        if (s.Token is { } token && SameOrigin(url, new Uri(s.Endpoint)))
            request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {token}");
        if (rangeFrom > 0) request.Headers.TryAddWithoutValidation("Range", $"bytes={rangeFrom}-");
        return request;
    }

    // Python treats a Location with a host as absolute; "//host/x" counts too.
    static bool IsAbsolute(string location) =>
        location.StartsWith("//", StringComparison.Ordinal) || Uri.TryCreate(location, UriKind.Absolute, out var u) && u.Scheme is "http" or "https";

    /// <summary>
    /// huggingface_hub's wait before retry number <paramref name="retry"/> (0-based): as long as a 429 asks, else
    /// 1, 2, 4, 8, 8 … times <see cref="HubSettings.RetryDelay"/>.
    /// </summary>
    internal static Task BackoffAsync(HubSettings s, Exception? error, int retry) =>
        Task.Delay(error is HubException { RetryAfter: { } asked } ? asked : s.RetryDelay * (1 << Math.Min(retry, 3)), s.Cancellation);

    internal static bool SameOrigin(Uri a, Uri b) =>
        a.Scheme == b.Scheme && string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;
}
