namespace OptNeurons.Hub;

/// <summary>
/// The entry point the rest of the project calls: a local folder holding a repo's files at one commit, in the shared
/// HF cache (snapshot_download as of huggingface_hub 1.22: the revision is resolved through repo info, the files are
/// listed with the tree API at that commit and the listing is kept in trees/&lt;commit&gt;.json).
/// </summary>
public static class HubSnapshot
{
    /// <summary>
    /// Returns snapshots/&lt;commit&gt;/ of <paramref name="repoId"/> (e.g. "facebook/opt-125m") at options.Revision, after
    /// downloading whatever the filter selects and the cache lacks. The default filter is
    /// <see cref="SnapshotFilter.Checkpoint"/> for models and <see cref="SnapshotFilter.All"/> for datasets.
    /// A 40-hex revision whose files are all cached costs no request; a branch or tag costs one (repo info).
    /// </summary>
    public static string Ensure(string repoId, HubOptions options, SnapshotFilter? filter = null)
    {
        var repo = HubRepo.Parse(repoId);
        filter ??= repo.Type == HubRepoType.Model ? SnapshotFilter.Checkpoint : SnapshotFilter.All;
        return EnsureAsync(repo, options.Revision, filter, HubSettings.Resolve(options)).GetAwaiter().GetResult();
    }

    static async Task<string> EnsureAsync(HubRepo repo, string revision, SnapshotFilter filter, HubSettings s)
    {
        var cache = new HubCache(s.CacheDir, repo);
        if (s.Offline) return FromCache(cache, revision, filter, null);
        string commit;
        try { commit = HubRepo.IsCommit(revision) ? revision : await HubTree.ResolveCommitAsync(s, repo, revision).ConfigureAwait(false); }
        catch (HubException e) when (e.Kind != HubErrorKind.RevisionNotFound)
        {
            return FromCache(cache, revision, filter, e);
        }

        var listing = HubTree.ReadCache(cache, commit);
        if (listing is null)
        {
            listing = await HubTree.ListAsync(s, repo, commit).ConfigureAwait(false);
            HubTree.WriteCache(cache, commit, listing);
        }
        var wanted = filter.Select(listing.Select(f => f.Path));
        if (wanted.Count == 0)
            throw new HubException(HubErrorKind.EntryNotFound, $"No file of {repo} at revision '{revision}' (commit {commit}) matches " +
                $"[{string.Join(", ", filter.Allow)}]; it has {string.Join(", ", listing.Select(f => f.Path).Take(20))}.");
        cache.WriteRef(revision, commit);
        // Each file is fetched at the commit, not the branch: all belong to one commit even if the branch moves
        // meanwhile, and the ones already cached cost no request.
        foreach (var file in wanted) await HubFile.DownloadAsync(repo, file, commit, s).ConfigureAwait(false);
        return cache.SnapshotDir(commit);
    }

    /// <summary>
    /// The cached snapshot of revision, found through refs/. When trees/&lt;commit&gt;.json is there, the snapshot must
    /// hold every file the filter selects from it (huggingface_hub ≥ 1.22 raises IncompleteSnapshotError otherwise);
    /// without a listing, the folder is returned as it is, as older versions do.
    /// </summary>
    static string FromCache(HubCache cache, string revision, SnapshotFilter filter, HubException? networkError)
    {
        var commit = cache.CommitFor(revision);
        if (commit is null || !Directory.Exists(cache.SnapshotDir(commit)))
        {
            if (networkError?.Kind is HubErrorKind.RepositoryNotFound or HubErrorKind.GatedRepo or HubErrorKind.AccessDenied) throw networkError;
            var where = commit is null ? $"no refs/{revision}" : $"no snapshots/{commit}/";
            throw HubFile.NotCached(networkError, $"{cache.Repo} at revision '{revision}' is not in the cache ({where} in {cache.RepoDir}).");
        }
        if (HubTree.ReadCache(cache, commit) is { } listing)
        {
            var missing = filter.Select(listing.Select(f => f.Path)).Where(f => !HubCache.Readable(cache.SnapshotPath(commit, f))).ToList();
            if (missing.Count > 0)
                throw HubFile.NotCached(networkError, $"The cached snapshot of {cache.Repo} at revision '{revision}' (commit {commit}) " +
                    $"lacks {string.Join(", ", missing)}.");
        }
        return cache.SnapshotDir(commit);
    }
}
