using OptNeurons.Runtime;

namespace OptNeurons.Hub;

/// <summary>
/// One repo's folder in the standard HF cache, byte for byte what huggingface_hub writes, so Python and C# share it:
/// blobs/&lt;etag&gt;, snapshots/&lt;commit&gt;/&lt;path&gt; (relative symlinks to the blobs), refs/&lt;revision&gt; holding the bare
/// commit, .no_exist/&lt;commit&gt;/&lt;path&gt; for files known to be missing, trees/&lt;commit&gt;.json for listings.
/// </summary>
internal sealed class HubCache(string root, HubRepo repo)
{
    public string Root => root;
    public HubRepo Repo => repo;
    public string RepoDir { get; } = Path.Combine(root, repo.FolderName);

    public string BlobPath(string etag) => Path.Combine(RepoDir, "blobs", SafeName(etag, "etag"));

    /// <summary>The partial download, named as huggingface_hub ≤ 1.17 names it, so either client can resume it.</summary>
    public string IncompletePath(string etag) => BlobPath(etag) + ".incomplete";

    public string SnapshotDir(string commit) => Path.Combine(RepoDir, "snapshots", SafeName(commit, "commit"));
    public string SnapshotPath(string commit, string file) => Path.Combine(SnapshotDir(commit), Relative(file));

    /// <summary>
    /// Whether a snapshot pointer can be read: a file, or a link whose blob is there. .NET's File.Exists is true for a
    /// link whose blob was deleted; Python's os.path.exists, which huggingface_hub uses, follows the link and says no.
    /// </summary>
    public static bool Readable(string pointer)
    {
        var info = new FileInfo(pointer);
        if (!info.Exists) return false;
        return info.LinkTarget is null || info.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true };
    }
    public string NoExistPath(string commit, string file) => Path.Combine(RepoDir, ".no_exist", SafeName(commit, "commit"), Relative(file));
    public string TreePath(string commit) => Path.Combine(RepoDir, "trees", SafeName(commit, "commit") + ".json");
    public string LockPath(string etag) => Path.Combine(root, ".locks", repo.FolderName, SafeName(etag, "etag") + ".lock");

    /// <summary>"refs/pr/31" lives at refs/refs/pr/31.</summary>
    public string RefPath(string revision) => Path.Combine(RepoDir, "refs", Relative(revision));

    /// <summary>The commit a revision stands for: itself if 40-hex, else what refs/ says (trimmed: other writers may add a newline).</summary>
    public string? CommitFor(string revision)
    {
        if (HubRepo.IsCommit(revision)) return revision;
        var path = RefPath(revision);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    /// <summary>
    /// Writes refs/&lt;revision&gt; only when it changes, atomically, with no trailing newline: Python reads the file
    /// verbatim, and "abc…\n" would send it looking for snapshots/abc…\n/.
    /// </summary>
    public void WriteRef(string revision, string commit)
    {
        if (revision == commit) return;
        var path = RefPath(revision);
        if (File.Exists(path) && File.ReadAllText(path) == commit) return;
        AtomicFile.WriteAllText(path, commit);
    }

    /// <summary>An empty marker saying "this file does not exist at this commit", as huggingface_hub leaves after a 404.</summary>
    public void MarkMissing(string commit, string file)
    {
        var path = NoExistPath(commit, file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
    }

    /// <summary>blobs/ plus CACHEDIR.TAG, which tells backup tools to skip the cache.</summary>
    public void Prepare()
    {
        Directory.CreateDirectory(Path.Combine(RepoDir, "blobs"));
        var tag = Path.Combine(root, "CACHEDIR.TAG");
        if (!File.Exists(tag))
            File.WriteAllText(tag, "Signature: 8a477f597d28d172789f06886806bc55\n" +
                "# This file is a cache directory tag created by huggingface_hub.\n" +
                "# For information about cache directory tags, see:\n#\thttps://bford.info/cachedir/\n");
    }

    /// <summary>
    /// Waits for .locks/&lt;repo&gt;/&lt;etag&gt;.lock. FileShare.None takes an flock on Unix, the same lock Python's
    /// filelock takes, so two processes (of either language) never download one blob twice at the same time.
    /// </summary>
    public async Task<IDisposable> LockAsync(string etag, CancellationToken cancel)
    {
        var path = LockPath(etag);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (File.Exists(path)) { await Task.Delay(100, cancel).ConfigureAwait(false); }
        }
    }

    /// <summary>
    /// _local_folder.py::_validate_relative_filename: a repo path must stay inside the snapshot, so absolute paths,
    /// drive letters, backslash tricks and ".." segments are refused before anything touches the disk.
    /// </summary>
    internal static string Relative(string file)
    {
        var parts = file.Split('/');
        if (file.Length == 0 || file.Contains('\\', StringComparison.Ordinal) || file is [_, ':', ..]
            || parts.Any(p => p is "" or "." or ".."))
            throw new ArgumentException($"'{file}' is not a safe relative path inside a repo.", nameof(file));
        return Path.Combine(parts);
    }

    // Etags and commits come from the server and become file names: keep them to a single plain segment.
    static string SafeName(string name, string what) =>
        name.Length > 0 && name.All(char.IsAsciiLetterOrDigit) ? name
            : throw new HubException(HubErrorKind.BadMetadata, $"The Hub sent {what} '{name}', which is not a plain hex name.");
}
