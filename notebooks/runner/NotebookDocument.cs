using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive.Documents;

namespace OptNeurons.Notebooks;

/// <summary>A cell as written in the .dib file.</summary>
public sealed record NotebookCell(string Kernel, string Source);

/// <summary>Reads .dib notebooks (C# and markdown cells) and finds the numbered ones of a folder.</summary>
public static partial class NotebookDocument
{
    /// <summary>Notebooks the runner executes: NN-name.dib, in name order. _setup.dib and friends are only imported.</summary>
    [GeneratedRegex(@"^\d{2}-.+\.dib$")]
    private static partial Regex NumberedNotebook();

    /// <summary>A line that imports another notebook: <c>#!import _setup.dib</c>.</summary>
    [GeneratedRegex(@"^\s*#!import\s+(?:--file\s+)?""?(?<path>[^""]+?)""?\s*$")]
    private static partial Regex ImportLine();

    public static IReadOnlyList<string> Find(string directory) =>
        Directory.EnumerateFiles(directory, "*.dib")
                 .Where(p => NumberedNotebook().IsMatch(Path.GetFileName(p)))
                 .Order(StringComparer.Ordinal)
                 .ToList();

    public static IReadOnlyList<NotebookCell> Read(string path)
    {
        var kernels = new KernelInfoCollection
        {
            new("csharp", "C#", ["c#", "C#", "cs"]),
            new("markdown", "Markdown", ["md"]),
        };
        kernels.DefaultKernelName = "csharp";
        var document = CodeSubmission.Parse(File.ReadAllText(path), kernels);
        return document.Elements
                       .Select(e => new NotebookCell(e.KernelName ?? "csharp", e.Contents.Replace("\r\n", "\n", StringComparison.Ordinal)))
                       .Where(c => c.Source.Trim().Length > 0)   // a file's trailing newline must not become a cell
                       .ToList();
    }

    /// <summary>
    /// Splits a code cell at its <c>#!import</c> lines: each piece is either code to submit or a notebook to import,
    /// in order. A path is relative to the importing notebook's folder.
    /// </summary>
    public static IReadOnlyList<(string? Code, string? Import)> Pieces(string source, string notebookDirectory)
    {
        var pieces = new List<(string? Code, string? Import)>();
        var code = new List<string>();
        void FlushCode()
        {
            if (code.Any(l => l.Trim().Length > 0)) pieces.Add((string.Join('\n', code), null));
            code.Clear();
        }
        foreach (var line in source.Split('\n'))
        {
            var import = ImportLine().Match(line);
            if (!import.Success) { code.Add(line); continue; }
            FlushCode();
            pieces.Add((null, Path.GetFullPath(Path.Combine(notebookDirectory, import.Groups["path"].Value))));
        }
        FlushCode();
        return pieces;
    }
}
