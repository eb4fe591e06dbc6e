using System.Collections.Concurrent;

namespace OptNeurons.Hub;

/// <summary>
/// The entries of snapshots/&lt;commit&gt;/: relative symlinks into blobs/ (file_download.py::_create_symlink), so every
/// snapshot that holds the same content shares one blob. Where links cannot be made (HF_HUB_DISABLE_SYMLINKS=1, a
/// filesystem without them, Windows without Developer Mode) the entry is a plain file, exactly as huggingface_hub does.
/// </summary>
internal static class SnapshotPointer
{
    static readonly ConcurrentDictionary<string, bool> SymlinksWork = new(StringComparer.Ordinal);

    /// <param name="newBlob">
    /// The blob was just downloaded by this call. Without symlinks it is then moved into the snapshot rather than
    /// copied, so a 10 GB shard does not take 20 GB; an older blob is copied because other snapshots may use it.
    /// </param>
    public static void Create(HubCache cache, string blob, string pointer, bool newBlob, bool symlinksDisabled)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
        if (!symlinksDisabled && SupportsSymlinks(cache.Root))
        {
            // A top-level file links to ../../blobs/<etag>, sub/dir/f to ../../../../blobs/<etag>. On another volume
            // no relative path exists and GetRelativePath returns the absolute one, as Python falls back to.
            var target = Path.GetRelativePath(Path.GetDirectoryName(pointer)!, blob);
            File.Delete(pointer);   // a dangling link from an interrupted run, or a copy from a no-symlink run
            try { File.CreateSymbolicLink(pointer, target); }
            catch (IOException) when (File.Exists(pointer)) { }   // another process made the same link meanwhile
            return;
        }
        if (newBlob) File.Move(blob, pointer, overwrite: true);
        else File.Copy(blob, pointer, overwrite: true);
    }

    /// <summary>Probed once per cache folder by linking two files in a scratch folder inside it.</summary>
    static bool SupportsSymlinks(string root) => SymlinksWork.GetOrAdd(root, static root =>
    {
        var probe = Path.Combine(root, $".symlink-probe-{Guid.NewGuid().ToString("N")[..8]}");
        try
        {
            Directory.CreateDirectory(probe);
            File.WriteAllBytes(Path.Combine(probe, "src"), []);
            File.CreateSymbolicLink(Path.Combine(probe, "dst"), "src");
            return File.Exists(Path.Combine(probe, "dst"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException) { return false; }
        finally { try { Directory.Delete(probe, recursive: true); } catch (IOException) { } }
    });
}
