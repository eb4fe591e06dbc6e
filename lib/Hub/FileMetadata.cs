using System.Globalization;

namespace OptNeurons.Hub;

/// <summary>
/// What the HEAD on /resolve/ says about one file (file_download.py::HfFileMetadata): the commit the revision points
/// to, the etag that names the blob (40-hex git SHA-1, or 64-hex SHA-256 for LFS files), the size, and the URL to GET.
/// </summary>
internal sealed record FileMetadata(string Commit, string Etag, long Size, Uri Location)
{
    /// <summary>An LFS (or Xet) file: its etag is the SHA-256 of its content, which the download verifies.</summary>
    public bool IsLfs => Etag.Length == 64;

    public static async Task<FileMetadata> HeadAsync(HubSettings s, HubRepo repo, string revision, string file)
    {
        var what = $"'{file}' of {repo} at revision '{revision}'";
        using var r = await HubHttp.SendAsync(HttpMethod.Head, repo.ResolveUrl(s.Endpoint, revision, file), s,
            Redirects.RelativeOnly, s.EtagTimeout, what).ConfigureAwait(false);
        int status = (int)r.StatusCode;
        bool redirect = status is >= 300 and < 400;
        if (!redirect && !r.IsSuccessStatusCode)
            throw await HubException.FromResponseAsync(r, repo, revision, file, s.Endpoint).ConfigureAwait(false);

        string? Header(string name) =>
            r.Headers.TryGetValues(name, out var v) || r.Content.Headers.TryGetValues(name, out v) ? v.FirstOrDefault() : null;
        var commit = Header("X-Repo-Commit");
        // X-Linked-Etag wins: on the LFS 302 the plain ETag belongs to the redirect, not to the file.
        var etag = Normalize(Header("X-Linked-Etag") ?? Header("ETag"));
        // A 302's own Content-Length is the size of its text body (a few hundred bytes), never the file's.
        long? size = long.TryParse(Header("X-Linked-Size"), NumberStyles.None, CultureInfo.InvariantCulture, out var linked) ? linked
            : redirect ? null : r.Content.Headers.ContentLength;
        var missing = new[] { (commit, "X-Repo-Commit"), (etag, "ETag/X-Linked-Etag"), (size?.ToString(CultureInfo.InvariantCulture), "X-Linked-Size/Content-Length") }
            .Where(h => h.Item1 is null).Select(h => h.Item2).ToList();
        if (missing.Count > 0)
            throw new HubException(HubErrorKind.BadMetadata, $"The answer for {what} from {r.RequestMessage?.RequestUri} lacks {string.Join(", ", missing)}: " +
                "it does not seem to come from the Hub. Check HF_ENDPOINT and any firewall or proxy in between.");

        var final = r.RequestMessage!.RequestUri!;
        var location = redirect && r.Headers.TryGetValues("Location", out var l) ? new Uri(final, l.First()) : final;
        return new FileMetadata(commit!, etag!, size!.Value, location);
    }

    /// <summary>W/"abc" and "abc" both name the blob abc.</summary>
    internal static string? Normalize(string? etag) =>
        etag is null ? null : (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"') is { Length: > 0 } e ? e : null;
}
