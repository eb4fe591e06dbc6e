using System.Collections.Immutable;
using System.Diagnostics;
using OptNeurons.Corpus;
using OptNeurons.Workbook;

namespace OptNeurons.Notebooks;

/// <summary>
/// Runs notebooks headless, in this process: each in a fresh kernel, cells in order, stopping a notebook at its first
/// failing cell; then writes an executed .ipynb and an offline .html per notebook and an index.html.
/// </summary>
public static class NotebookRunner
{
    /// <summary>
    /// The folder of this process's OptNeurons.Lib.dll and its packages. _setup.dib references the assemblies there, so the
    /// notebook compiles against exactly the copies this process has loaded (no second copy, no NuGet, works offline).
    /// </summary>
    public const string BinVariable = "OPTNEURONS_BIN";

    public static async Task<RunReport> RunAsync(RunOptions options, CancellationToken cancellation = default)
    {
        var watch = Stopwatch.StartNew();
        var notebooks = Select(NotebookDocument.Find(options.NotebooksDirectory), options.Only);
        var output = Directory.CreateDirectory(options.OutputDirectory).FullName;
        var variables = new Dictionary<string, string>(options.Environment)
        {
            [BinVariable] = Path.GetDirectoryName(typeof(NotebookSettings).Assembly.Location)!,
        };
        if ((options.RepoRoot ?? ProjectCache.FindCheckout(options.NotebooksDirectory)) is { } repo) variables.TryAdd(NotebookSettings.RepoVariable, repo);

        var results = new List<NotebookResult>();
        using (EnvironmentScope.Set(variables))
        {
            foreach (var path in notebooks)
            {
                var result = await RunNotebookAsync(path, options.Log, cancellation);
                var name = result.Name;
                result = result with { IpynbPath = Path.Combine(output, name + ".ipynb"), HtmlPath = Path.Combine(output, name + ".html") };
                IpynbWriter.Write(result, result.IpynbPath);
                HtmlPage.Write(result, result.HtmlPath);
                results.Add(result);
                GC.Collect();   // the kernel held this notebook's models: finalize their tensors, freeing native memory, before the next one
                GC.WaitForPendingFinalizers();
                GC.Collect();
            }
        }
        var index = Path.Combine(output, "index.html");
        var report = new RunReport(results, output, index, watch.Elapsed);
        IndexPage.Write(report, variables, index);
        return report;
    }

    /// <summary>Runs one notebook in a fresh kernel; the result holds every cell, run or skipped after a failure.</summary>
    public static async Task<NotebookResult> RunNotebookAsync(string path, TextWriter? log = null, CancellationToken cancellation = default)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var cells = NotebookDocument.Read(path);
        var watch = Stopwatch.StartNew();
        var results = new List<CellResult>();
        CellFailure? failure = null;
        using var kernel = new NotebookKernel();
        for (int i = 0; i < cells.Count; i++)
        {
            var cell = cells[i];
            bool run = cell.Kernel != "markdown" && failure is null;
            if (!run)
            {
                results.Add(new CellResult(i + 1, cell.Kernel, cell.Source, [], TimeSpan.Zero, Ran: false));
                continue;
            }
            var cellWatch = Stopwatch.StartNew();
            var (outputs, error) = await RunCodeAsync(kernel, cell.Source, directory, [], cancellation);
            var result = new CellResult(i + 1, cell.Kernel, cell.Source, outputs, cellWatch.Elapsed, Ran: true);
            results.Add(result);
            log?.WriteLine($"{name}: cell {i + 1}/{cells.Count} {(error is null ? "ok" : "FAILED")} {cellWatch.Elapsed.TotalSeconds:F1}s  {Shorten(result.FirstLine)}");
            if (error is not null) failure = new CellFailure(name, i + 1, result.FirstLine, error);
        }
        return new NotebookResult(name, Path.GetFullPath(path), results, watch.Elapsed, failure);
    }

    /// <summary>
    /// Runs a code cell. Its <c>#!import</c> lines run the imported notebook's code cells here, in this kernel (as VS Code
    /// does), with their outputs shown under this cell; unlike the kernel's own #!import, a failing imported cell fails
    /// this one, naming the file and cell.
    /// </summary>
    static async Task<(List<CellOutput> Outputs, string? Error)> RunCodeAsync(NotebookKernel kernel, string source, string directory,
                                                                               ImmutableHashSet<string> importing, CancellationToken cancellation)
    {
        var outputs = new List<CellOutput>();
        foreach (var (code, import) in NotebookDocument.Pieces(source, directory))
        {
            if (code is not null)
            {
                var (shown, error) = await kernel.SubmitAsync(code, cancellation);
                outputs.AddRange(shown);
                if (error is not null) return (outputs, error);
                continue;
            }
            var (file, fileName) = (import!, Path.GetFileName(import!));
            string? importError = !File.Exists(file) ? $"#!import {fileName}: {file} does not exist."
                : importing.Contains(file) ? $"#!import {fileName}: the file imports itself." : null;
            if (importError is not null)
            {
                outputs.Add(new ErrorOutput(importError));
                return (outputs, importError);
            }
            var cells = NotebookDocument.Read(file);
            for (int k = 0; k < cells.Count; k++)
            {
                if (cells[k].Kernel == "markdown") continue;   // an imported file's prose is not shown
                var (shown, error) = await RunCodeAsync(kernel, cells[k].Source, Path.GetDirectoryName(file)!, importing.Add(file), cancellation);
                outputs.AddRange(shown);
                if (error is not null)
                    return (outputs, $"in {fileName}, cell {k + 1} ({CellResult.FirstLineOf(cells[k].Source)}): {error}");
            }
        }
        return (outputs, null);
    }

    static IReadOnlyList<string> Select(IReadOnlyList<string> notebooks, IReadOnlyList<string> only)
    {
        if (only.Count == 0) return notebooks;
        var chosen = notebooks.Where(p => only.Any(o => Path.GetFileNameWithoutExtension(p).StartsWith(o.EndsWith(".dib", StringComparison.Ordinal) ? o[..^4] : o, StringComparison.Ordinal))).ToList();
        return chosen.Count > 0 ? chosen
            : throw new ArgumentException($"No notebook matches {string.Join(", ", only)}; there are: {string.Join(", ", notebooks.Select(Path.GetFileNameWithoutExtension))}.");
    }

    static string Shorten(string line) => line.Length <= 70 ? line : line[..67] + "...";
}
