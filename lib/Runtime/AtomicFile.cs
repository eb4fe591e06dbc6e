using System.Text;

namespace OptNeurons.Runtime;

/// <summary>
/// Writes a file so that a reader sees the old file or the whole new one, never a part: the bytes go to a temporary
/// sibling (named per process and call, so concurrent writers never share one), are flushed to disk, and the sibling is
/// renamed over the target, which within one folder is atomic. An interrupted write leaves the target as it was.
/// </summary>
public static class AtomicFile
{
    /// <param name="write">Writes the content; it leaves the stream open, as the stream is flushed to disk after it.</param>
    /// <param name="unixMode">Permissions the new file gets before it replaces the target (an executable, a library).</param>
    public static void Write(string path, Action<FileStream> write, UnixFileMode? unixMode = null)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            if (unixMode is { } mode && !OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, mode);
            File.Move(temp, full, overwrite: true);
        }
        finally { File.Delete(temp); }   // nothing to delete once renamed
    }

    /// <summary>Whether <paramref name="fileName"/> is a temporary that a write of <paramref name="target"/> (a file name) left.</summary>
    public static bool IsTemporaryOf(string fileName, string target) =>
        fileName.StartsWith(target + ".", StringComparison.Ordinal) && fileName.EndsWith(".tmp", StringComparison.Ordinal);

    /// <summary>UTF-8 without a byte-order mark, as <see cref="File.WriteAllText(string, string)"/> writes.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Utf8.GetBytes(text));

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, file => file.Write(bytes));

    static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
}
