using System.Diagnostics;
using System.Globalization;
using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Runtime;
using TorchSharp;

namespace OptNeurons.Workbook;

/// <summary>
/// What every notebook runs on, chosen in one place: environment variables (the headless runner sets them from its
/// command line), else defaults. Read once by notebooks/_setup.dib: <c>var setup = NotebookSettings.FromEnvironment();</c>.
/// </summary>
/// <param name="RepoRoot">The repository (the folder holding OptNeurons.Lib.csproj).</param>
/// <param name="Model">What was asked for: a hub id ("facebook/opt-125m") or a folder.</param>
/// <param name="ModelDirectory">The local snapshot folder of <paramref name="Model"/>.</param>
/// <param name="Revision">The hub commit of the snapshot; null for a local folder.</param>
public sealed record NotebookSettings(string RepoRoot, string Model, string ModelDirectory, string? Revision,
                                      string Device, string Dtype, long Seed, string? Corpus)
{
    public const string ModelVariable = "OPTNEURONS_MODEL";
    public const string CorpusVariable = "OPTNEURONS_CORPUS";
    public const string DeviceVariable = "OPTNEURONS_DEVICE";
    public const string DtypeVariable = "OPTNEURONS_DTYPE";
    public const string SeedVariable = "OPTNEURONS_SEED";
    public const string RepoVariable = "OPTNEURONS_REPO";

    /// <summary>The test fixture: a 3-layer OPT with reference outputs. The default model until the project's own replaces it.</summary>
    public const string FixtureModel = "tests/Fixtures/opt-tiny-pre-ln";

    /// <summary>The reference checkpoint and its expected/ folder (always the fixture, whatever <see cref="Model"/> is).</summary>
    public string FixtureDirectory => Path.Combine(RepoRoot, FixtureModel);

    /// <summary>A short name for legends and titles: "opt-125m" for facebook/opt-125m, the folder name for a folder.</summary>
    public string ModelName => Path.GetFileName(Path.TrimEndingDirectorySeparator(Model));

    public bool ModelIsFixture => Path.GetFullPath(ModelDirectory) == Path.GetFullPath(FixtureDirectory);

    /// <summary>Reads the variables above; the repository is found from the current folder upwards unless $OPTNEURONS_REPO says.</summary>
    public static NotebookSettings FromEnvironment(string? startDirectory = null)
    {
        var repo = Variable(RepoVariable) ?? FindRepoRoot(startDirectory ?? Directory.GetCurrentDirectory());
        var model = Variable(ModelVariable) ?? FixtureModel;
        // A relative folder is taken from the repository root, so a notebook and the runner mean the same folder.
        var inRepo = Path.Combine(repo, model);
        var (directory, revision) = Pretrained.Locate(Directory.Exists(inRepo) ? inRepo : model);
        var seedText = Variable(SeedVariable) ?? "0";
        if (!long.TryParse(seedText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed))
            throw new ArgumentException($"${SeedVariable} must be an integer, not '{seedText}'.");
        return new NotebookSettings(repo, model, Path.GetFullPath(directory), revision, Variable(DeviceVariable) ?? "auto",
                                    Variable(DtypeVariable) ?? "auto", seed, Variable(CorpusVariable));
    }

    /// <summary>Prepares TorchSharp, seeds its generator and loads <see cref="Model"/> in eval mode.</summary>
    public OptForCausalLM LoadModel()
    {
        TorchRuntime.Initialize();
        torch.manual_seed(Seed);
        return Pretrained.Load(ModelDirectory, Device, Dtype);
    }

    /// <summary>Commit, device, model and revision, seed: printed at the top of every notebook.</summary>
    public string Banner()
    {
        TorchRuntime.Initialize();
        var device = TorchRuntime.ResolveDevice(Device);
        return string.Join('\n',
            $"commit   {Commit(RepoRoot)}",
            $"device   {device.type.ToString().ToLowerInvariant()} (asked: {Device}), dtype {Dtype}, TorchSharp {typeof(torch).Assembly.GetName().Version}",
            $"model    {Model} @ {Revision ?? "local folder"}" + (ModelIsFixture ? " (the reference fixture)" : ""),
            $"corpus   {Corpus ?? "none chosen (notebooks use built-in sentences or the fixture's sequences)"}",
            $"seed     {Seed}");
    }

    /// <summary>Short hash of HEAD, "+dirty" when the work tree has changes; "unknown" without git.</summary>
    public static string Commit(string repoRoot)
    {
        var head = Git(repoRoot, "rev-parse --short=12 HEAD");
        if (head is null) return "unknown";
        return Git(repoRoot, "status --porcelain --untracked-files=no") is { Length: > 0 } ? head + "+dirty" : head;
    }

    static string? Git(string repo, string arguments)
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", $"-C \"{repo}\" {arguments}")
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (git is null) return null;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }   // git not installed
    }

    static string FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "OptNeurons.Lib.csproj"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No OptNeurons.Lib.csproj in '{start}' or above it; set ${RepoVariable} to the repository.");
    }

    static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
