using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OptNeurons.Runtime;

namespace OptNeurons.Hub;

/// <summary>One file of a repo at a commit, with the fields the /tree endpoint gives and trees/&lt;commit&gt;.json keeps.</summary>
internal sealed record TreeFile(string Path, long Size, string BlobId, string? LfsSha256 = null, long? LfsSize = null, string? XetHash = null);

/// <summary>
/// Which commit a revision points to (repo info's "sha") and which files that commit holds (the tree API, paged
/// through Link: rel="next"), with the listing cached in trees/&lt;commit&gt;.json as huggingface_hub ≥ 1.22 does.
/// </summary>
internal static partial class HubTree
{
    [GeneratedRegex("""<([^>]+)>\s*;\s*rel="?next"?""")]
    private static partial Regex NextLink();

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, IndentSize = 1 };   // json.dump(indent=1)

    public static async Task<string> ResolveCommitAsync(HubSettings s, HubRepo repo, string revision)
    {
        var json = await GetAsync(s, repo, revision, repo.RevisionUrl(s.Endpoint, revision), _ => { }).ConfigureAwait(false);
        var sha = json?["sha"]?.GetValue<string>();
        return sha is not null && HubRepo.IsCommit(sha) ? sha
            : throw new HubException(HubErrorKind.BadMetadata, $"The Hub's info on {repo} at revision '{revision}' has no commit (\"sha\").");
    }

    public static async Task<IReadOnlyList<TreeFile>> ListAsync(HubSettings s, HubRepo repo, string commit)
    {
        var files = new List<TreeFile>();
        bool firstPage = true;
        for (Uri? page = repo.TreeUrl(s.Endpoint, commit); page is not null;)
        {
            Uri? next = null;
            var url = page;
            // The first page's failure falls back to the cache; a later page's is retried, as huggingface_hub does.
            var items = firstPage ? await GetAsync(s, repo, commit, url, r => next = Next(r)).ConfigureAwait(false)
                                  : await RetriedAsync(s, () => GetAsync(s, repo, commit, url, r => next = Next(r))).ConfigureAwait(false);
            firstPage = false;
            foreach (var item in items?.AsArray() ?? [])
            {
                if (item?["type"]?.GetValue<string>() != "file") continue;
                var lfs = item["lfs"];
                files.Add(new TreeFile(item["path"]!.GetValue<string>(), item["size"]!.GetValue<long>(), item["oid"]!.GetValue<string>(),
                    lfs?["oid"]?.GetValue<string>(), lfs?["size"]?.GetValue<long>(), item["xetHash"]?.GetValue<string>()));
            }
            page = next;
        }
        return files;
    }

    /// <summary>Up to 5 retries of a transient failure, waiting as long as a 429 asks, else 1, 2, 4, 8, 8 s.</summary>
    static async Task<T> RetriedAsync<T>(HubSettings s, Func<Task<T>> call)
    {
        for (int retry = 0; ; retry++)
        {
            try { return await call().ConfigureAwait(false); }
            catch (HubException e) when (e.IsRetryable && retry < 5) { await HubHttp.BackoffAsync(s, e, retry).ConfigureAwait(false); }
        }
    }

    static async Task<JsonNode?> GetAsync(HubSettings s, HubRepo repo, string revision, Uri url, Action<HttpResponseMessage> headers)
    {
        var what = $"the file list of {repo} at revision '{revision}'";
        using var r = await HubHttp.SendAsync(HttpMethod.Get, url, s, Redirects.All, s.DownloadTimeout, what).ConfigureAwait(false);
        if (!r.IsSuccessStatusCode) throw await HubException.FromResponseAsync(r, repo, revision, null, s.Endpoint).ConfigureAwait(false);
        headers(r);
        try { return JsonNode.Parse(await r.Content.ReadAsStringAsync(s.Cancellation).ConfigureAwait(false)); }
        catch (Exception e) when (e is JsonException or IOException or HttpRequestException)
        { throw new HubException(HubErrorKind.BadMetadata, $"Unreadable answer for {what} from {url}: {e.Message}", e); }
    }

    static Uri? Next(HttpResponseMessage r) =>
        r.Headers.TryGetValues("Link", out var links) && links.Select(l => NextLink().Match(l)).FirstOrDefault(m => m.Success) is { } m
            ? new Uri(r.RequestMessage!.RequestUri!, m.Groups[1].Value) : null;

    /// <summary>trees/&lt;commit&gt;.json, or null when absent, unreadable or of a format version this code does not know.</summary>
    public static IReadOnlyList<TreeFile>? ReadCache(HubCache cache, string commit)
    {
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(cache.TreePath(commit)));
            if (root?["format_version"]?.GetValue<int>() != 1) return null;
            return root["files"]!.AsObject().Select(kv => new TreeFile(kv.Key, kv.Value!["size"]!.GetValue<long>(),
                kv.Value["blob_id"]!.GetValue<string>(), kv.Value["lfs_sha256"]?.GetValue<string>(),
                kv.Value["lfs_size"]?.GetValue<long>(), kv.Value["xet_hash"]?.GetValue<string>())).ToList();
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException or NullReferenceException or FormatException)
        { return null; }
    }

    /// <summary>Writes the listing in _tree_cache.py's format (sorted paths, optional keys only when set), atomically.</summary>
    public static void WriteCache(HubCache cache, string commit, IReadOnlyList<TreeFile> files)
    {
        // Gated repos redact Xet hashes as 64 '*': such a listing is not worth keeping (huggingface_hub drops it too).
        if (files.Any(f => f.XetHash is { } x && x.All(c => c == '*'))) return;
        var entries = new JsonObject();
        foreach (var f in files.OrderBy(f => f.Path, StringComparer.Ordinal))
        {
            var info = new JsonObject { ["size"] = f.Size, ["blob_id"] = f.BlobId };
            if (f.LfsSha256 is not null) { info["lfs_sha256"] = f.LfsSha256; info["lfs_size"] = f.LfsSize; }
            if (f.XetHash is not null) info["xet_hash"] = f.XetHash;
            entries[f.Path] = info;
        }
        AtomicFile.WriteAllText(cache.TreePath(commit), new JsonObject { ["format_version"] = 1, ["files"] = entries }.ToJsonString(Indented));
    }
}
