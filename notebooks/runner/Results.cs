namespace OptNeurons.Notebooks;

/// <summary>One output of a cell, as the kernel produced it.</summary>
public abstract record CellOutput;

/// <summary>A displayed value or the cell's return value: the same value in one or more MIME types (mime → text).</summary>
public sealed record DisplayOutput(IReadOnlyDictionary<string, string> Data, bool IsReturnValue) : CellOutput;

/// <summary>Console output: <paramref name="Name"/> is "stdout" or "stderr".</summary>
public sealed record StreamOutput(string Name, string Text) : CellOutput;

/// <summary>The error that stopped the cell (compiler diagnostics or the exception).</summary>
public sealed record ErrorOutput(string Message) : CellOutput;

/// <summary>A cell of the notebook, run or not.</summary>
/// <param name="Number">1-based position among all the notebook's cells, markdown included (as an editor shows them).</param>
/// <param name="Kernel">"csharp" or "markdown".</param>
public sealed record CellResult(int Number, string Kernel, string Source, IReadOnlyList<CellOutput> Outputs, TimeSpan Duration, bool Ran)
{
    public bool IsCode => Kernel != "markdown";

    /// <summary>The first line that is not blank, for messages ("cell 7 (var check = …)").</summary>
    public string FirstLine => FirstLineOf(Source);

    public static string FirstLineOf(string source) => source.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "";
}

/// <summary>Which cell stopped a notebook, and why.</summary>
public sealed record CellFailure(string Notebook, int Cell, string FirstLine, string Error)
{
    public override string ToString() => $"{Notebook}: cell {Cell} ({FirstLine}) failed:\n{Error}";
}

/// <summary>One executed notebook and where its outputs were written.</summary>
public sealed record NotebookResult(string Name, string SourcePath, IReadOnlyList<CellResult> Cells, TimeSpan Duration, CellFailure? Failure)
{
    public bool Succeeded => Failure is null;
    public string IpynbPath { get; init; } = "";
    public string HtmlPath { get; init; } = "";
}

/// <summary>Every notebook of a run, in order, and the index page that links them.</summary>
public sealed record RunReport(IReadOnlyList<NotebookResult> Notebooks, string OutputDirectory, string IndexPath, TimeSpan Duration)
{
    public bool Succeeded => Notebooks.All(n => n.Succeeded);
}
