using OptNeurons.Corpus;
using OptNeurons.Loading;
using OptNeurons.Runtime;
using OptNeurons.Workbook;

namespace OptNeurons.Notebooks;

/// <summary>
/// The command line of the notebooks' main job: run notebooks/NN-*.dib headless and write .ipynb + offline .html +
/// index.html. Exit codes: 0 every notebook ran, 1 a cell failed (named on stderr), 2 bad arguments.
/// </summary>
public static class RunnerCommand
{
    /// <param name="setWorkingDirectory">Make the notebooks folder the process's working directory, as VS Code does
    /// for its kernel; false when hosted in a process that must keep its own (tests).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, bool setWorkingDirectory = true)
    {
        const string Usage = """
            usage: dotnet run --project notebooks/runner -c Release -- [options]
              --only NAME       run the notebooks whose name starts with NAME ("00", "00-does-our"); repeatable
              --out DIR         where outputs go (default: artifacts/notebooks under the repository)
              --model M         model folder or hub id        (sets OPTNEURONS_MODEL; default: data/models/opt-mini)
              --corpus C        corpus for the findings       (sets OPTNEURONS_CORPUS; default: sdk-docs)
              --tokens N        token budget of the corpus    (sets OPTNEURONS_TOKENS; default: all of sdk-docs, or a recipe's own budget)
              --scaling M,M     models notebook 04 overlays   (sets OPTNEURONS_SCALING_MODELS; default: the model)
              --device D        auto | cpu | cuda             (sets OPTNEURONS_DEVICE)
              --dtype T         auto | float32 | bfloat16 | float16  (sets OPTNEURONS_DTYPE)
              --seed N          seed for sampling             (sets OPTNEURONS_SEED)
              --notebooks DIR   the notebooks folder (default: notebooks/ under the repository)
              --quiet           no per-cell progress
            """;

        var settings = new Dictionary<string, string>();
        var only = new List<string>();
        string? output = null, notebooks = null;
        bool quiet = false;
        var variables = new Dictionary<string, string>
        {
            ["--model"] = NotebookSettings.ModelVariable, ["--corpus"] = NotebookSettings.CorpusVariable, ["--tokens"] = NotebookSettings.TokensVariable,
            ["--scaling"] = NotebookSettings.ScalingModelsVariable,
            ["--device"] = NotebookSettings.DeviceVariable, ["--dtype"] = NotebookSettings.DtypeVariable, ["--seed"] = NotebookSettings.SeedVariable,
        };
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            try
            {
                switch (args[i])
                {
                    case "--only": only.Add(Value()); break;
                    case "--out": output = Path.GetFullPath(Value()); break;
                    case "--notebooks": notebooks = Path.GetFullPath(Value()); break;
                    case "--quiet": quiet = true; break;
                    case "-h" or "--help": stdout.WriteLine(Usage); return 0;
                    case var name when variables.TryGetValue(name, out var variable): settings[variable] = Value(); break;
                    default: throw new ArgumentException($"unknown option '{args[i]}'.");
                }
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"error: {e.Message}\n{Usage}");
                return 2;
            }
        }

        var repo = ProjectCache.FindCheckout(AppContext.BaseDirectory) ?? ProjectCache.FindCheckout(Directory.GetCurrentDirectory());
        notebooks ??= repo is null ? null : Path.Combine(repo, "notebooks");
        if (notebooks is null || !Directory.Exists(notebooks))
        {
            stderr.WriteLine($"error: no notebooks folder ({notebooks ?? "repository not found"}); pass --notebooks DIR.");
            return 2;
        }
        if (Preflight(settings, repo ?? notebooks) is { } problem)
        {
            stderr.WriteLine($"error: {problem}");
            return 2;
        }
        output ??= Path.Combine(repo ?? Directory.GetCurrentDirectory(), "artifacts", "notebooks");
        // Cells see the notebooks folder as their working directory, as they do in VS Code.
        if (setWorkingDirectory) Directory.SetCurrentDirectory(notebooks);

        RunReport report;
        try
        {
            report = await NotebookRunner.RunAsync(new RunOptions
            {
                NotebooksDirectory = notebooks, OutputDirectory = output, Only = only, Environment = settings, RepoRoot = repo,
                Log = quiet ? null : stdout,
            });
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 2;
        }

        foreach (var n in report.Notebooks)
            stdout.WriteLine($"{(n.Succeeded ? "passed" : "FAILED")}  {n.Name}  {n.Duration.TotalSeconds:F1} s");
        stdout.WriteLine($"{report.Notebooks.Count(n => n.Succeeded)} of {report.Notebooks.Count} notebooks passed in {report.Duration.TotalSeconds:F1} s; pages: {report.IndexPath}");
        foreach (var failure in report.Notebooks.Select(n => n.Failure).OfType<CellFailure>())
        {
            stderr.WriteLine($"\nerror: {failure}");
            if (UserErrors.IsOutOfMemory(failure.Error))
                stderr.WriteLine("  out of memory: the notebooks need less with a smaller --tokens budget or a smaller --model.");
        }
        return report.Succeeded ? 0 : 1;
    }

    /// <summary>
    /// The settings as every notebook's set-up cell will read them, checked before any notebook starts, so a mistyped
    /// option is one line here rather than a failed first cell in each notebook. Null when they are usable.
    /// </summary>
    static string? Preflight(IReadOnlyDictionary<string, string> settings, string repoOrNotebooks)
    {
        using var _ = EnvironmentScope.Set(settings);
        try
        {
            var read = NotebookSettings.FromEnvironment(repoOrNotebooks);   // the model is located (a hub id downloaded) here
            CheckpointLoader.CheckShapes(Checkpoint.Open(read.ModelDirectory));   // config and weight headers agree; no weights read
            TorchRuntime.ResolveDevice(read.Device);
            if (read.Dtype != "auto") TorchRuntime.ParseDtype(read.Dtype, $"${NotebookSettings.DtypeVariable}");
            if (read.Corpus is { } corpus && !NamedCorpus.Names.Contains(corpus))
                return $"unknown corpus '{corpus}'; expected one of: {string.Join(", ", NamedCorpus.Names)}.";
            return null;
        }
        catch (Exception e) when (UserErrors.IsUsersToFix(e))
        {
            return e.Message;
        }
    }
}
