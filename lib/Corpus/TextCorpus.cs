using System.Text.RegularExpressions;

namespace OptNeurons.Corpus;

/// <summary>How a plain text file becomes documents.</summary>
public enum TextSplit
{
    /// <summary>The whole file is one document.</summary>
    WholeFile,
    /// <summary>Each run of non-blank lines is a document; any run of blank (or whitespace-only) lines separates two.</summary>
    BlankLines,
}

/// <summary>
/// Plain UTF-8 text files, and folders of them (searched recursively for <c>searchPattern</c>). Files come in the
/// given order; a folder's files in ordinal order of their '/'-separated relative paths, so the order is the same on
/// every file system. "\r\n" becomes "\n" so a Windows checkout gives the same tokens (dataset formats keep their text
/// exactly as stored: their bytes do not depend on the machine). Blank documents are skipped.
/// </summary>
public sealed partial class TextCorpus(IReadOnlyList<string> paths, TextSplit split = TextSplit.WholeFile, string searchPattern = "*.txt") : ICorpus
{
    public TextCorpus(string path, TextSplit split = TextSplit.WholeFile) : this([path], split) { }

    public string Source => $"text:{string.Join(",", paths)} ({(split == TextSplit.WholeFile ? "one document per file" : "documents split on blank lines")})";

    public IEnumerable<Document> Documents()
    {
        foreach (var (file, id) in Files())
        {
            var text = File.ReadAllText(file).Replace("\r\n", "\n", StringComparison.Ordinal);
            if (split == TextSplit.WholeFile)
            {
                if (!string.IsNullOrWhiteSpace(text)) yield return new Document(id, text);
                continue;
            }
            int k = 0;
            foreach (var chunk in BlankLineRun().Split(text))
            {
                var part = chunk.Trim('\n');
                if (!string.IsNullOrWhiteSpace(part)) yield return new Document($"{id}#{k++}", part);
            }
        }
    }

    IEnumerable<(string File, string Id)> Files()
    {
        foreach (var path in paths)
        {
            if (File.Exists(path)) { yield return (path, Path.GetFileName(path)); continue; }
            if (!Directory.Exists(path)) throw new FileNotFoundException($"{path}: no such text file or folder.", path);
            var files = Directory.EnumerateFiles(path, searchPattern, SearchOption.AllDirectories)
                .Select(f => (File: f, Id: Path.GetRelativePath(path, f).Replace('\\', '/')))
                .OrderBy(f => f.Id, StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new InvalidDataException($"{path}: folder holds no files matching {searchPattern}.");
            foreach (var f in files) yield return f;
        }
    }

    // A newline, then one or more lines holding only spaces or tabs (the line ending of the last one is consumed too).
    [GeneratedRegex(@"\n(?:[ \t]*\n)+")]
    private static partial Regex BlankLineRun();
}
