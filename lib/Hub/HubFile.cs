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
        if (HubRepo.IsCommit(revision) && File.Exists(cache.SnapshotPath(revision, file))) return cache.SnapshotPath(revision, file);
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
        catch (HubException e) when (e.Kind is not (HubErrorKind.RevisionNotFound or HubErrorKind.EntryNotFound))
        {
            return FromCache(cache, revision, file, e);   // Hub unreachable or refusing: a cached copy still serves
        }

        var pointer = cache.SnapshotPath(meta.Commit, file);
        cache.WriteRef(revision, meta.Commit);
        if (File.Exists(pointer)) return pointer;
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

    /// <summary>
    /// The cached copy of file at revision, found only through refs/ (never another revision); else an error that
    /// names the repo, revision and file and why the network was not used.
    /// </summary>
    static string FromCache(HubCache cache, string revision, string file, HubException? networkError)
    {
        var commit = cache.CommitFor(revision);
        if (commit is not null && File.Exists(cache.SnapshotPath(commit, file))) return cache.SnapshotPath(commit, file);
        // Without a cached copy, authentication problems are more useful as they are than as "not cached".
        if (networkError?.Kind is HubErrorKind.RepositoryNotFound or HubErrorKind.GatedRepo or HubErrorKind.AccessDenied) throw networkError;
        var where = commit is null ? $"no refs/{revision} in {cache.RepoDir}" : $"snapshots/{commit}/{file} is missing in {cache.RepoDir}";
        throw NotCached(networkError, $"'{file}' of {cache.Repo} at revision '{revision}' is not in the cache ({where}).");
    }

    internal static HubException NotCached(HubException? networkError, string what) => new(HubErrorKind.NotCached,
        networkError is null
            ? $"Offline mode (HF_HUB_OFFLINE=1 or HubOptions.Offline): {what} Download it once with network access, or unset HF_HUB_OFFLINE."
            : $"{what} The Hub could not be used: {networkError.Message}", networkError);
}
