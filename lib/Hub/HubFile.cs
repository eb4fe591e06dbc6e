namespace OptNeurons.Hub;

/// <summary>
/// Single files of a repo into the shared cache: hf_hub_download in cache mode (file_download.py::
/// _hf_hub_download_to_cache_dir). Use it for dataset files, e.g. a Parquet shard of the bot's conversion:
/// <c>HubFile.Download("datasets/org/name", "default/validation/0000.parquet", new() { Revision = "refs/convert/parquet" })</c>.
/// </summary>
public static class HubFile
{
    /// <summary>Returns the path of the file inside snapshots/&lt;commit&gt;/, downloading it first if needed.</summary>
    public static string Download(string repoId, string file, HubOptions options) =>
        DownloadAsync(HubRepo.Parse(repoId), file, options.Revision, HubSettings.Resolve(options)).GetAwaiter().GetResult();

    internal static async Task<string> DownloadAsync(HubRepo repo, string file, string revision, HubSettings s)
    {
        var cache = new HubCache(s.CacheDir, repo);
        HubCache.Relative(file);   // a bad path fails here, before any request
        // A full commit hash names immutable content: a cached file is returned without asking anyone.
        if (HubRepo.IsCommit(revision) && HubCache.Readable(cache.SnapshotPath(revision, file))) return cache.SnapshotPath(revision, file);
        if (s.Offline) return FromCache(cache, revision, file, null);

        FileMetadata meta;
        try { meta = await FileMetadata.HeadAsync(s, repo, revision, file).ConfigureAwait(false); }
        catch (HubException e) when (e.Kind == HubErrorKind.EntryNotFound && e.Commit is { } commit && HubRepo.IsCommit(commit))
        {
            // Remembered like huggingface_hub does, so transformers' try_to_load_from_cache knows the file is absent.
            cache.MarkMissing(commit, file);
            cache.WriteRef(revision, commit);
            throw;
        }
        catch (HubException e) when (IsFallback(e))
        {
            // The Hub is unreachable or refuses: a cached copy still serves; otherwise a transient failure gets retried.
            if (Cached(cache, revision, file) is { } hit) return hit;
            try { meta = await HeadWithRetriesAsync(s, repo, revision, file, e).ConfigureAwait(false); }
            catch (HubException last) when (IsFallback(last)) { throw NotCachedOr(last, cache, revision, file); }
        }

        var pointer = cache.SnapshotPath(meta.Commit, file);
        cache.WriteRef(revision, meta.Commit);
        if (HubCache.Readable(pointer)) return pointer;
        cache.Prepare();
        using (await cache.LockAsync(meta.Etag, s.Cancellation).ConfigureAwait(false))
        {
            var blob = cache.BlobPath(meta.Etag);
            bool fresh = !File.Exists(blob);   // another revision or process may have fetched the same content
            if (fresh) await BlobDownload.RunAsync(s, repo, file, meta, cache.IncompletePath(meta.Etag), blob).ConfigureAwait(false);
            SnapshotPointer.Create(cache, blob, pointer, fresh, s.SymlinksDisabled);
        }
        return pointer;
    }

    static bool IsFallback(HubException e) => e.Kind is not (HubErrorKind.RevisionNotFound or HubErrorKind.EntryNotFound);

    /// <summary>
    /// The second chance huggingface_hub gives a HEAD that failed with nothing cached: up to 5 retries with a 60 s
    /// deadline, waiting 1, 2, 4, 8, 8 s (or as long as a 429 asks), as long as the failure is a transient one.
    /// </summary>
    static async Task<FileMetadata> HeadWithRetriesAsync(HubSettings s, HubRepo repo, string revision, string file, HubException first)
    {
        var patient = s with { EtagTimeout = TimeSpan.FromSeconds(60) };
        for (int retry = 0; retry < 5 && first.IsRetryable; retry++)
        {
            await HubHttp.BackoffAsync(s, first, retry).ConfigureAwait(false);
            try { return await FileMetadata.HeadAsync(patient, repo, revision, file).ConfigureAwait(false); }
            catch (HubException e) when (IsFallback(e)) { first = e; }
        }
        throw first;
    }

    /// <summary>The cached copy of file at revision, found only through refs/ (never through another revision).</summary>
    static string? Cached(HubCache cache, string revision, string file) =>
        cache.CommitFor(revision) is { } commit && HubCache.Readable(cache.SnapshotPath(commit, file)) ? cache.SnapshotPath(commit, file) : null;

    /// <summary>The cached copy, or an error naming the repo, revision and file, and why the network was not used.</summary>
    static string FromCache(HubCache cache, string revision, string file, HubException? networkError) =>
        Cached(cache, revision, file) ?? throw NotCachedOr(networkError, cache, revision, file);

    static HubException NotCachedOr(HubException? networkError, HubCache cache, string revision, string file)
    {
        // Without a cached copy, authentication problems are more useful as they are than as "not cached".
        if (networkError?.Kind is HubErrorKind.RepositoryNotFound or HubErrorKind.GatedRepo or HubErrorKind.AccessDenied) return networkError;
        var commit = cache.CommitFor(revision);
        var where = commit is null ? $"no refs/{revision} in {cache.RepoDir}" : $"snapshots/{commit}/{file} is missing in {cache.RepoDir}";
        return NotCached(networkError, $"'{file}' of {cache.Repo} at revision '{revision}' is not in the cache ({where}).");
    }

    internal static HubException NotCached(HubException? networkError, string what) => new(HubErrorKind.NotCached,
        networkError is null
            ? $"Offline mode (HF_HUB_OFFLINE=1 or HubOptions.Offline): {what} Download it once with network access, or unset HF_HUB_OFFLINE."
            : $"{what} The Hub could not be used: {networkError.Message}", networkError);
}
