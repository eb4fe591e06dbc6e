using System.Diagnostics;
using System.Globalization;
using OptNeurons.Corpus;
using OptNeurons.Findings;
using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Runtime;
using OptNeurons.Stats;
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
                                      string Device, string Dtype, long Seed, string? Corpus, long? Tokens,
                                      IReadOnlyList<string> ScalingModels)
{
    public const string ModelVariable = "OPTNEURONS_MODEL";
    public const string CorpusVariable = "OPTNEURONS_CORPUS";
    public const string DeviceVariable = "OPTNEURONS_DEVICE";
    public const string DtypeVariable = "OPTNEURONS_DTYPE";
    public const string SeedVariable = "OPTNEURONS_SEED";
    public const string TokensVariable = "OPTNEURONS_TOKENS";
    /// <summary>Comma-separated models the scaling notebook overlays (default: just <see cref="Model"/>).</summary>
    public const string ScalingModelsVariable = "OPTNEURONS_SCALING_MODELS";
    public const string RepoVariable = "OPTNEURONS_REPO";
    /// <summary>Every variable above.</summary>
    public static IReadOnlyList<string> Variables { get; } =
        [ModelVariable, CorpusVariable, DeviceVariable, DtypeVariable, SeedVariable, TokensVariable, ScalingModelsVariable, RepoVariable];

    /// <summary>The project's own trained OPT (6 layers, learned positions), committed in the repository: the default model.</summary>
    public const string DefaultModel = "data/models/opt-mini";
    /// <summary>Its twin trained without positional embeddings (paper Fig. 10).</summary>
    public const string NoPosModel = "data/models/opt-mini-nopos";
    /// <summary>Its twin with OPT-350m's LayerNorm placement, after each block (paper §6, Fig. 16).</summary>
    public const string PostLnModel = "data/models/opt-mini-postln";
    /// <summary>The test fixture: a 3-layer OPT with reference outputs from HuggingFace.</summary>
    public const string FixtureModel = "tests/Fixtures/opt-tiny-pre-ln";

    /// <summary>The reference checkpoint and its expected/ folder (always the fixture, whatever <see cref="Model"/> is).</summary>
    public string FixtureDirectory => Path.Combine(RepoRoot, FixtureModel);

    /// <summary>Every reference fixture beside it, one per OPT arrangement (pre-/post-LN, no biases, untied head, …).</summary>
    public IReadOnlyList<string> ReferenceFixtureFolders => Findings.ReferenceFixture.FoldersIn(Path.GetDirectoryName(FixtureDirectory)!);

    /// <summary>A short name for legends and titles: "opt-125m" for facebook/opt-125m, the folder name for a folder.</summary>
    public string ModelName => NameOf(Model);

    /// <summary>The name a model is shown and cached under: the last part of its hub id or folder ("opt-125m").</summary>
    public static string NameOf(string model) => Path.GetFileName(Path.TrimEndingDirectorySeparator(model));

    public bool ModelIsFixture => Path.GetFullPath(ModelDirectory) == Path.GetFullPath(FixtureDirectory);

    /// <summary>Reads the variables above; the repository is found from the current folder upwards unless $OPTNEURONS_REPO says.</summary>
    public static NotebookSettings FromEnvironment(string? startDirectory = null)
    {
        var repo = Variable(RepoVariable) ?? FindRepoRoot(startDirectory ?? Directory.GetCurrentDirectory());
        var model = Variable(ModelVariable) ?? DefaultModel;
        var (directory, revision) = LocateIn(repo, model);
        long seed = Integer(SeedVariable) ?? 0;
        long? tokens = Integer(TokensVariable);
        if (tokens is < 1) throw new ArgumentException($"${TokensVariable} must be a positive number of tokens, not {tokens}.");
        return new NotebookSettings(repo, model, directory, revision, Variable(DeviceVariable) ?? "auto",
                                    Variable(DtypeVariable) ?? "auto", seed, Variable(CorpusVariable), tokens,
                                    Variable(ScalingModelsVariable)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [model]);
    }

    /// <summary>Prepares TorchSharp, seeds its generator and loads <see cref="Model"/> in eval mode.</summary>
    public OptForCausalLM LoadModel()
    {
        TorchRuntime.Initialize();
        torch.manual_seed(Seed);
        return Pretrained.Load(ModelDirectory, Device, Dtype);
    }

    /// <summary>A model of the repository (<see cref="NoPosModel"/>, …) or any folder or hub id, loaded like <see cref="Model"/>.</summary>
    public OptForCausalLM LoadModel(string model)
    {
        TorchRuntime.Initialize();
        torch.manual_seed(Seed);
        return Pretrained.Load(Locate(model).Directory, Device, Dtype);
    }

    /// <summary>
    /// The same architecture, initialised as OPT initialises (seeded with <see cref="Seed"/>) and never trained: the
    /// baseline a finding must differ from to be something training did (an untrained model has no dead neurons, and its
    /// random position embeddings make most neurons look "positional").
    /// </summary>
    public OptForCausalLM Untrained(OptConfig config)
    {
        TorchRuntime.Initialize();
        return OptNeurons.Training.OptInitializer.Untrained(config, Seed, TorchRuntime.ResolveDevice(Device));
    }

    /// <summary>The local folder (and hub revision) of a repository-relative folder, an absolute folder or a hub id.</summary>
    public (string Directory, string? Revision) Locate(string model) => LocateIn(RepoRoot, model);

    /// <summary>A relative folder is taken from the repository root, so a notebook and the runner mean the same folder.</summary>
    static (string Directory, string? Revision) LocateIn(string repo, string model)
    {
        var inRepo = Path.Combine(repo, model);
        var (directory, revision) = Pretrained.Locate(Directory.Exists(inRepo) ? inRepo : model);
        return (Path.GetFullPath(directory), revision);
    }

    /// <summary>The model's tokenizer (vocab.json and merges.txt of its folder), to show tokens as text.</summary>
    public OptNeurons.Tokenization.OptTokenizer Tokenizer() => OptNeurons.Tokenization.OptTokenizer.FromDirectory(ModelDirectory);

    /// <summary>The sequences the findings count on (<see cref="NotebookData"/>): the corpus, budget and seed chosen here.</summary>
    public NotebookData Data(OptConfig config) => NotebookData.For(this, config);

    /// <summary>
    /// Statistics of <see cref="Model"/> (or of <paramref name="otherModel"/>, a folder or hub id) on <paramref name="data"/>:
    /// captured on first use, then read from the cache (<see cref="NotebookStatistics"/>).
    /// </summary>
    public NeuronStats Statistics(OptForCausalLM model, NotebookData data, string? otherModel = null)
    {
        var (directory, revision) = otherModel is null ? (ModelDirectory, Revision) : Locate(otherModel);
        return NotebookStatistics.Capture(model, otherModel ?? Model, directory, revision, data, Console.Out);
    }

    /// <summary>
    /// What a findings notebook analyses: <see cref="Statistics"/> of <see cref="Model"/> (or of <paramref name="otherModel"/>)
    /// on its own <see cref="Data"/>, named for legends as <see cref="ModelName"/> names the chosen model.
    /// </summary>
    public ModelStats StatsOf(OptForCausalLM model, string? otherModel = null) =>
        new(NameOf(otherModel ?? Model), model.NumLayers, Statistics(model, Data(model.Config), otherModel));

    /// <summary>Whether <see cref="Model"/> is the workbook's default, the model the notebooks' prose describes.</summary>
    public bool ModelIsDefault => Path.GetFullPath(ModelDirectory) == Path.GetFullPath(Path.Combine(RepoRoot, DefaultModel));

    /// <summary>
    /// Checks a sentence of the prose that describes the default model's results (<see cref="Expect.True"/>, failing the
    /// run when it no longer holds). On another model the prose is not about it: the sentence is shown with whether it
    /// holds there, and nothing fails.
    /// </summary>
    public string Claim(bool condition, string what) =>
        ModelIsDefault ? Expect.True(condition, what) : $"{(condition ? "holds" : "does not hold")} for {ModelName} (the prose describes {DefaultModel}): {what}";

    /// <summary>Commit, device, model and revision, seed: printed at the top of every notebook.</summary>
    public string Banner()
    {
        TorchRuntime.Initialize();
        var device = TorchRuntime.ResolveDevice(Device);
        return string.Join('\n',
            $"commit   {Commit(RepoRoot)}",
            $"device   {device.type.ToString().ToLowerInvariant()} (asked: {Device}), dtype {Dtype}, TorchSharp {typeof(torch).Assembly.GetName().Version}" +
                (TorchRuntime.PatchedVersions.Count > 0 ? $" (libstdc++ needs marked weak: {string.Join(", ", TorchRuntime.PatchedVersions)})" : ""),
            $"model    {Model} @ {Revision ?? "local folder"}" + (ModelIsFixture ? " (the reference fixture)" : ""),
            $"corpus   {Corpus ?? NamedCorpus.SdkDocs}, {(Tokens is { } t ? t.ToString("N0", CultureInfo.InvariantCulture) + " tokens" : Corpus is null or NamedCorpus.SdkDocs ? "all of it" : "the recipe's budget")}"
                + (NotebookData.HasTokenizer(ModelDirectory) ? "" : " (this model has no tokenizer: the fixture's sequences are used)"),
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

    static string FindRepoRoot(string start) => ProjectCache.FindCheckout(start)
        ?? throw new DirectoryNotFoundException($"No OptNeurons.Lib.csproj in '{start}' or above it; set ${RepoVariable} to the repository.");

    static long? Integer(string name)
    {
        if (Variable(name) is not { } text) return null;
        return long.TryParse(text.Replace("_", ""), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
            : throw new ArgumentException($"${name} must be an integer, not '{text}'.");
    }

    static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
