using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OptNeurons.Findings;
using OptNeurons.Notebooks;
using OptNeurons.Plots;
using OptNeurons.Tests.Support;
using OptNeurons.Workbook;
using Xunit.Abstractions;

namespace OptNeurons.Tests.Notebooks;

/// <summary>Notebook runs share process-wide state (environment variables, Console redirection): never in parallel.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NotebookCollection { public const string Name = "notebooks"; }

/// <summary>The headless runner on the real notebook 00, and on a notebook that fails on purpose.</summary>
[Collection(NotebookCollection.Name)]
public class NotebookRunTests(ITestOutputHelper output)
{
    static string RepoNotebooks => Path.Combine(OptNeurons.Corpus.ProjectCache.FindCheckout(AppContext.BaseDirectory)!, "notebooks");

    [Fact]
    public async Task Notebook00_RunsHeadless_AndWritesIpynbAndOfflineHtml()
    {
        using var temp = new TempDirectory();
        var report = await NotebookRunner.RunAsync(new RunOptions { NotebooksDirectory = RepoNotebooks, OutputDirectory = temp.Path, Only = ["00"] });

        var notebook = Assert.Single(report.Notebooks);
        Assert.True(notebook.Succeeded, notebook.Failure?.ToString());
        output.WriteLine($"notebook 00 ran in {notebook.Duration.TotalSeconds:F1} s");
        // The reference check as the notebook states it: our logits within 1e-4 of HuggingFace's.
        var check = AllText(notebook).Select(t => Regex.Match(t, @"max \|our logit − HuggingFace's\| = (\S+) <")).Single(m => m.Success);
        Assert.InRange(double.Parse(check.Groups[1].Value, CultureInfo.InvariantCulture), 0, 1e-4);
        // The same check on every arrangement in tests/Fixtures (post-LN with projections, no biases, untied head …):
        // exact for each reference computed in float32, within its rounding for the one computed in bfloat16.
        var fixtures = AllText(notebook).Select(t => Regex.Match(t, @"(\d+) fixtures computed in float32, each within 1e-4")).Single(m => m.Success);
        var references = ReferenceFixture.FoldersIn(Fixtures.Root).Select(ReferenceFixture.Open).ToList();
        Assert.Equal(references.Count(r => r.ComputeDtype == "float32"), int.Parse(fixtures.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Contains(references, r => !r.IsExact);
        Assert.Contains(AllText(notebook), t => t.Contains("✓ every fixture within its tolerance, the half-precision ones included", StringComparison.Ordinal));

        var ipynb = JsonNode.Parse(File.ReadAllText(notebook.IpynbPath))!;
        Assert.Equal(".net-csharp", (string?)ipynb["metadata"]!["kernelspec"]!["name"]);
        Assert.Equal(notebook.Cells.Count, ipynb["cells"]!.AsArray().Count);
        var figures = ipynb["cells"]!.AsArray().SelectMany(c => c!["outputs"]?.AsArray() ?? []).Select(o => o!["data"]?[ChartOutput.PlotlyMimeType]).OfType<JsonObject>();
        Assert.Contains(figures, f => f["data"] is JsonArray);   // a figure object Jupyter can draw, not a string

        var html = File.ReadAllText(notebook.HtmlPath);
        Assert.Equal(1, Occurrences(html, "plotly.js v" + ChartOutput.PlotlyJsVersion));   // plotly.js's own banner: inlined once
        Assert.Contains("Plotly.newPlot(", html, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"<script[^>]+src=", html);
        // plotly.js itself names its CDN (the default for geo charts' map files); nothing outside it may.
        var page = html.Replace(ChartOutput.PlotlyJs(), "", StringComparison.Ordinal);
        Assert.DoesNotContain("cdn.plot.ly", page, StringComparison.Ordinal);
        Assert.Contains("<h1", html, StringComparison.Ordinal);   // markdown rendered
        Assert.Contains(Path.GetFileName(notebook.HtmlPath), File.ReadAllText(report.IndexPath), StringComparison.Ordinal);
    }

    /// <summary>
    /// Every findings notebook, headless on the embedded model and corpus (the README's main job): each must pass all
    /// of its checks, and the numbers its prose states must equal the library's answer on the same statistics.
    /// </summary>
    [Fact]
    public async Task FindingsNotebooks_RunHeadlessOnTheEmbeddedModel_AndStateTheLibrarysNumbers()
    {
        using var temp = new TempDirectory();
        string[] findings = ["01", "02", "03", "04", "05", "06"];
        var report = await NotebookRunner.RunAsync(new RunOptions { NotebooksDirectory = RepoNotebooks, OutputDirectory = temp.Path, Only = findings });

        Assert.Equal(findings.Length, report.Notebooks.Count);
        foreach (var notebook in report.Notebooks)
        {
            Assert.True(notebook.Succeeded, $"{notebook.Name}: {notebook.Failure}");
            output.WriteLine($"{notebook.Name} ran in {notebook.Duration.TotalSeconds:F1} s");
        }

        var settings = NotebookSettings.FromEnvironment(RepoNotebooks);
        Assert.Equal(NotebookSettings.DefaultModel, settings.Model);
        using var model = settings.LoadModel();
        var m = settings.StatsOf(model);
        string Stated(string notebook, string pattern) =>
            AllText(report.Notebooks.Single(n => n.Name.StartsWith(notebook, StringComparison.Ordinal))).Select(t => Regex.Match(t, pattern))
                .Single(x => x.Success).Groups[1].Value;

        Assert.Equal(DeadNeurons.PerLayer(m).Sum(r => r.Dead), int.Parse(Stated("01", @"dead before training \(on [\d,]+ tokens\), (\d+) after"), CultureInfo.InvariantCulture));
        // Notebook 03 studies the NoPos twin's detectors when the default model has none (it has none today).
        var detectors = NgramDetectors.Find(m);
        using var twin = settings.LoadModel(NotebookSettings.NoPosModel);
        var subject = detectors.Detectors.Count > 0 ? model : twin;
        if (detectors.Detectors.Count == 0)
            detectors = NgramDetectors.Find(settings.StatsOf(twin, NotebookSettings.NoPosModel));
        Assert.Equal(detectors.Detectors.Count, int.Parse(Stated("03", @"of (\d+) detectors push their own tokens down"), CultureInfo.InvariantCulture));
        Assert.Equal(Suppression.Overall(Suppression.PerDetector(subject, detectors)).MeanBelowZero,
                     int.Parse(Stated("03", @"(\d+) of \d+ detectors push their own tokens down"), CultureInfo.InvariantCulture));
        Assert.Equal(PositionalNeurons.Find(m).Count, int.Parse(Stated("05", @", trained (\d+)"), CultureInfo.InvariantCulture));

        // Notebook 06 sets the default model beside its post-LN twin.
        using var postLn = settings.LoadModel(NotebookSettings.PostLnModel);
        var post = settings.StatsOf(postLn, NotebookSettings.PostLnModel);
        Assert.Equal($"{DeadNeurons.PerLayer(m).Sum(r => r.Dead)} in {settings.ModelName}, {DeadNeurons.PerLayer(post).Sum(r => r.Dead)} in opt-mini-postln",
                     Stated("06", @"dead neurons: (\d+ in \S+, \d+ in \S+) \(of"));
        Assert.Equal($"{NgramDetectors.Find(m).Detectors.Count} in {settings.ModelName}, {NgramDetectors.Find(post).Detectors.Count} in opt-mini-postln",
                     Stated("06", @"token detectors: (\d+ in \S+, \d+ in \S+)$"));
        Assert.Equal($"{PositionalNeurons.Find(m).Count} in {settings.ModelName}, {PositionalNeurons.Find(post).Count} in opt-mini-postln",
                     Stated("06", @"positional neurons: (\d+ in \S+, \d+ in \S+)$"));
    }

    [Fact]
    public async Task FailingCell_IsReportedWithNotebookCellAndError_AndLaterCellsAreSkipped()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "01-broken.dib"), """
            #!markdown

            # A notebook that fails on purpose

            #!csharp

            var answer = 6 * 7;
            answer

            #!csharp

            // cell 3: the deliberate failure
            throw new InvalidOperationException("deliberate failure " + answer);

            #!csharp

            Console.WriteLine("never runs");
            """);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = await RunnerCommand.RunAsync(["--notebooks", temp.Path, "--out", temp.Sub("out"), "--quiet"], stdout, stderr, setWorkingDirectory: false);

        Assert.Equal(1, exit);
        var error = stderr.ToString();
        Assert.Contains("01-broken: cell 3 (// cell 3: the deliberate failure) failed", error, StringComparison.Ordinal);
        Assert.Contains("deliberate failure 42", error, StringComparison.Ordinal);
        var page = File.ReadAllText(temp.Sub("out/01-broken.html"));
        Assert.Contains("failed at <a href=\"#cell-3\">cell 3</a>", page, StringComparison.Ordinal);
        Assert.True(File.Exists(temp.Sub("out/01-broken.ipynb")));
    }

    [Theory]
    [InlineData("--device", "tpu", "error: unknown device 'tpu'; expected auto, cpu, cuda or cuda:N (N = 0, 1, …).")]
    [InlineData("--tokens", "lots", "error: $OPTNEURONS_TOKENS must be an integer, not 'lots'.")]
    [InlineData("--corpus", "nope", "error: unknown corpus 'nope'; expected one of: sdk-docs, paper-section3")]
    [InlineData("--model", "/no/such-folder", "/no/such-folder: checkpoint folder does not exist")]
    public async Task BadSettings_AreRefusedBeforeAnyNotebookRuns(string option, string value, string message)
    {
        using var temp = new TempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "01-would-run.dib"), "#!csharp\n\nvar ran = true;\n");
        var stderr = new StringWriter();
        int exit = await RunnerCommand.RunAsync(["--notebooks", temp.Path, "--out", temp.Sub("out"), "--quiet", option, value],
                                                new StringWriter(), stderr, setWorkingDirectory: false);
        Assert.Equal(2, exit);
        Assert.Contains(message, stderr.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Sub("out")), "no notebook should have run");
    }

    [Fact]
    public async Task AModelWhoseConfigDoesNotFitItsWeights_IsRefusedBeforeAnyNotebookRuns()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "01-would-run.dib"), "#!csharp\n\nvar ran = true;\n");
        var model = temp.Sub("model");
        Directory.CreateDirectory(model);
        File.Copy(Path.Combine(Fixtures.TinyPreLn, "model.safetensors"), Path.Combine(model, "model.safetensors"));
        File.WriteAllText(Path.Combine(model, "config.json"),
                          File.ReadAllText(Path.Combine(Fixtures.TinyPreLn, "config.json")).Replace("\"ffn_dim\": 128", "\"ffn_dim\": 100"));
        var stderr = new StringWriter();
        int exit = await RunnerCommand.RunAsync(["--notebooks", temp.Path, "--out", temp.Sub("out"), "--quiet", "--model", model],
                                                new StringWriter(), stderr, setWorkingDirectory: false);
        Assert.Equal(2, exit);
        Assert.Contains($"{model} (safetensors: model.safetensors) does not match the model its config.json describes:", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("model.decoder.layers.0.fc1.weight: checkpoint [128, 32] in model.safetensors, model [100, 32]", stderr.ToString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp.Sub("out")), "no notebook should have run");
    }

    [Fact]
    public async Task SetupWithoutABuild_SaysWhatToBuild()
    {
        using var temp = new TempDirectory();
        File.Copy(Path.Combine(RepoNotebooks, "_setup.dib"), temp.Sub("_setup.dib"));
        // An editor's kernel finds no OPTNEURONS_BIN and looks for the runner's build, which may not exist yet.
        File.WriteAllText(temp.Sub("01-unbuilt.dib"),
            $"#!csharp\n\nEnvironment.SetEnvironmentVariable(\"OPTNEURONS_BIN\", @\"{temp.Sub("no-build")}\");\n\n#!csharp\n\n#!import _setup.dib\n");

        var report = await NotebookRunner.RunAsync(new RunOptions { NotebooksDirectory = temp.Path, OutputDirectory = temp.Sub("out") });

        var failure = Assert.Single(report.Notebooks).Failure;
        Assert.NotNull(failure);
        Assert.Contains($"{temp.Sub("no-build")} holds no OptNeurons.Lib.dll: build it first, in the repository: dotnet build notebooks/runner -c Release",
                        failure.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALibtorchError_IsReportedWithoutItsNativeFrames_AndAnAllocationFailureSaysWhatToLower()
    {
        using var temp = new TempDirectory();
        File.Copy(Path.Combine(RepoNotebooks, "_setup.dib"), temp.Sub("_setup.dib"));
        File.WriteAllText(temp.Sub("01-native.dib"), "#!csharp\n\n#!import _setup.dib\n\n#!csharp\n\nvar big = TorchSharp.torch.empty(1L << 58);\n");

        var stderr = new StringWriter();
        int exit = await RunnerCommand.RunAsync(["--notebooks", temp.Path, "--out", temp.Sub("out"), "--quiet"], new StringWriter(), stderr,
                                                setWorkingDirectory: false);

        var error = stderr.ToString();
        Assert.Equal(1, exit);
        Assert.Contains("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1152921504606846976 bytes", error, StringComparison.Ordinal);
        Assert.Contains("at TorchSharp.torch.empty(", error, StringComparison.Ordinal);   // the .NET stack stays
        Assert.DoesNotContain("frame #", error, StringComparison.Ordinal);
        Assert.DoesNotContain("frame #", File.ReadAllText(temp.Sub("out/01-native.ipynb")), StringComparison.Ordinal);
        Assert.Contains("out of memory: the notebooks need less with a smaller --tokens budget or a smaller --model.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailureInsideAnImport_NamesTheImportedFileAndCell()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(Path.Combine(temp.Path, "_helpers.dib"), "#!csharp\n\nvar ok = 1;\n\n#!csharp\n\nint broken = \"not a number\";\n");
        File.WriteAllText(Path.Combine(temp.Path, "02-imports.dib"), "#!csharp\n\n#!import _helpers.dib\n\n#!csharp\n\nok\n");

        var report = await NotebookRunner.RunAsync(new RunOptions { NotebooksDirectory = temp.Path, OutputDirectory = temp.Sub("out") });

        var failure = Assert.Single(report.Notebooks).Failure;
        Assert.NotNull(failure);
        Assert.Equal((1, "#!import _helpers.dib"), (failure.Cell, failure.FirstLine));
        Assert.Contains("in _helpers.dib, cell 2 (int broken = \"not a number\";)", failure.Error, StringComparison.Ordinal);
        Assert.Contains("CS0029", failure.Error, StringComparison.Ordinal);   // the compiler's own message comes through
    }

    static IEnumerable<string> AllText(NotebookResult notebook) =>
        notebook.Cells.SelectMany(c => c.Outputs).SelectMany(o => o switch
        {
            DisplayOutput d => d.Data.Values,
            StreamOutput s => [s.Text],
            _ => [],
        });

    static int Occurrences(string text, string part) => Regex.Matches(text, Regex.Escape(part)).Count;
}
