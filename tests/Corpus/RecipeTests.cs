using System.IO.Compression;
using System.Text.Json;
using OptNeurons.Corpus;
using OptNeurons.Tests.Support;
using Parquet;
using Parquet.Schema;

namespace OptNeurons.Tests.Corpus;

public class RecipeTests
{
    const string Codeparrot = "codeparrot/codeparrot-clean-valid", CodeparrotRevision = "4db92d2ec0c1b4c41eeb439cfae16854511d9dcd";
    const string Pile = "EleutherAI/pile_val_test", Reddit = "fddemarco/pushshift-reddit-comments";

    [Fact]
    public void ShippedRecipes_LoadWithSourcesFieldsAndSharesAddingUpToOne()
    {
        Assert.Equal(["paper-section3", "paper-section4", "paper-section5"], Recipe.Names);
        foreach (var name in Recipe.Names)
        {
            var r = Recipe.Named(name);
            Assert.Equal(name, r.Name);
            Assert.Equal(1.0, r.Parts.Sum(p => p.Share), 9);
            Assert.All(r.Parts, p =>
            {
                Assert.Contains('/', p.Repo);
                Assert.NotEmpty(p.Revision);
                Assert.NotEmpty(p.Files);
                Assert.NotEmpty(p.TextField);
                Assert.True(p.Note.Length > 80, $"{name}/{p.Name}: the note must say why this source");
            });
        }
        var s4 = Recipe.Named("paper-section4");
        Assert.Equal(5_000_000, s4.TokenBudget);
        Assert.Equal(["wikipedia", "dm_mathematics", "hackernews", "reddit", "codeparrot"], s4.Parts.Select(p => p.Name));
        Assert.Equal(["Wikipedia (en)", "DM Mathematics", "HackerNews"], s4.Parts.Where(p => p.Repo == Pile).Select(p => p.Where!.Value));
        Assert.All(s4.Parts.Where(p => p.Repo == Pile), p => Assert.Equal(("meta.pile_set_name", "text", RecipeFormat.Jsonl), (p.Where!.Field, p.TextField, p.Format)));
        Assert.Equal(("body", RecipeFormat.Parquet), (s4.Parts[3].TextField, s4.Parts[3].Format));
        Assert.Equal(("content", CodeparrotRevision), (s4.Parts[4].TextField, s4.Parts[4].Revision));
        var s3 = Recipe.Named("paper-section3");
        Assert.Equal(20_000_000, s3.TokenBudget);
        Assert.Equal(["Wikipedia (en)", "DM Mathematics", "HackerNews", "EuroParl", "FreeLaw", "PubMed Abstracts", "StackExchange"],
            s3.Parts.Where(p => p.Repo == Pile).Select(p => p.Where!.Value));
        Assert.All(s3.Parts.Where(p => p.Repo == Pile), p => Assert.Equal(["val.jsonl", "test.jsonl"], p.Files));
    }

    [Fact]
    public void Resolve_DownloadsEachDistinctFileOnce_InRecipeOrder()
    {
        using var dir = new TempDirectory();
        var fake = new FakeHub(dir.Path);
        Recipe.Named("paper-section4").Resolve(fake.Download);
        Assert.Equal([(Pile, "main", "val.jsonl"), (Reddit, "main", "data/RC_2015-01.parquet"), (Codeparrot, CodeparrotRevision, "file-000000000054.json.gz")], fake.Calls);
        fake.Calls.Clear();
        Recipe.Named("paper-section3").Resolve(fake.Download);
        Assert.Equal([(Pile, "main", "val.jsonl"), (Pile, "main", "test.jsonl"), (Reddit, "main", "data/RC_2015-01.parquet"), (Codeparrot, CodeparrotRevision, "file-000000000054.json.gz")], fake.Calls);
    }

    [Fact]
    public void Build_FromFakeFiles_FiltersEachPart_AndMeetsEveryShare()
    {
        using var dir = new TempDirectory();
        var recipe = Recipe.Named("paper-section3") with { TokenBudget = 2_000 };
        var parts = recipe.Resolve(new FakeHub(dir.Path).Download);
        // Every document of a Pile part comes from its own subset; Reddit's deleted comments are gone.
        Assert.All(parts[0].Corpus.Documents(), d => Assert.StartsWith("Wikipedia_(en)", d.Text));
        Assert.All(parts[6].Corpus.Documents(), d => Assert.StartsWith("FreeLaw", d.Text));
        Assert.Equal(2 * 40, parts[5].Corpus.Documents().Count());  // EuroParl from val and test
        Assert.DoesNotContain(parts[3].Corpus.Documents(), d => d.Text is "[deleted]" or "[removed]");
        Assert.StartsWith("reddit (hf:fddemarco/pushshift-reddit-comments@main:data/RC_2015-01.parquet[body] except [[deleted], [removed]], first 300000 documents)", parts[3].Corpus.Source);
        var built = recipe.Build(new FakeHub(dir.Path).Download, WordTokenizer.Encode, WordTokenizer.Bos, seed: 1, new PackingOptions(32));
        Assert.Equal([300L, 300, 200, 200, 300, 100, 200, 200, 200], built.Spec.Sources.Select(s => s.Tokens));
        Assert.Equal(2_000, built.Spec.Tokens);
        var tooMuch = recipe with { TokenBudget = 1_000_000 };
        var e = Assert.Throws<InvalidDataException>(() => tooMuch.Build(new FakeHub(dir.Path).Download, WordTokenizer.Encode, 2, 1, new PackingOptions(32)));
        Assert.StartsWith("recipe paper-section3: wikipedia (hf:EleutherAI/pile_val_test@main:val.jsonl+test.jsonl[text] where meta.pile_set_name == Wikipedia (en)) holds only", e.Message);
    }

    [Fact]
    public void NamedRecipe_WithATokenBudget_SamplesThatManyInTheRecipesShares()
    {
        // The fake files laid out as a HuggingFace cache, read offline: the path a capture's --data and --tokens take.
        using var dir = new TempDirectory();
        var fake = new FakeHub(Path.Combine(dir.Path, "files"));
        string cache = Path.Combine(dir.Path, "cache"), mainCommit = new('a', 40);
        Recipe.Named("paper-section3").Resolve(fake.Download);   // writes the files and records which were asked for
        foreach (var (repo, revision, path) in fake.Calls.ToList())
        {
            string repoDir = Path.Combine(cache, "datasets--" + repo.Replace("/", "--")), commit = revision == "main" ? mainCommit : revision;
            Directory.CreateDirectory(Path.Combine(repoDir, "refs"));
            if (revision == "main") File.WriteAllText(Path.Combine(repoDir, "refs", "main"), mainCommit);
            var target = Path.Combine(repoDir, "snapshots", commit, path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(fake.Download(repo, revision, path), target);
        }
        var hub = new OptNeurons.Hub.HubOptions { Offline = true, CacheDir = cache, Environment = new Dictionary<string, string>() };
        var built = NamedCorpus.Build("paper-section3", WordTokenizer.Encode, WordTokenizer.Bos, seed: 1, new PackingOptions(32), tokenBudget: 2_000, hub);
        Assert.Equal(2_000, built.Spec.TokenBudget);
        Assert.Equal([300L, 300, 200, 200, 300, 100, 200, 200, 200], built.Spec.Sources.Select(s => s.Tokens));
        // Without a budget the recipe's own 20 M applies, which these small files cannot meet: the error says so.
        var e = Assert.Throws<InvalidDataException>(() => NamedCorpus.Build("paper-section3", WordTokenizer.Encode, WordTokenizer.Bos, 1, new PackingOptions(32), hub: hub));
        Assert.Contains("of the 3,000,000 its share needs", e.Message);
    }

    [Fact]
    public void HubDownloader_AsksForTheDatasetRepoAtThePartsRevision()
    {
        using var dir = new TempDirectory();
        // Offline with an empty cache: the error shows what was asked for, without any network.
        var download = Recipe.HubDownloader(new OptNeurons.Hub.HubOptions { Offline = true, CacheDir = dir.Path, Environment = new Dictionary<string, string>() });
        var e = Assert.Throws<OptNeurons.Hub.HubException>(() => Recipe.Named("paper-section4").Resolve(download));
        Assert.Equal(OptNeurons.Hub.HubErrorKind.NotCached, e.Kind);
        Assert.Contains("'val.jsonl' of", e.Message);
        Assert.Contains("revision 'main'", e.Message);
        Assert.Contains(Path.Combine(dir.Path, "datasets--EleutherAI--pile_val_test"), e.Message);
    }

    [Theory]
    [InlineData("""{"name":"x","description":"","paper":"","token_budget":10,"parts":[]}""", "x.json: \"parts\" is empty.")]
    [InlineData("""{"name":"x","description":"","paper":"","token_budget":10,"parts":[{"name":"a","repo":"o/r","revision":"main","files":["f"],"format":"jsonl","text_field":"text","share":0.5,"note":""}]}""", "x.json: shares add up to 0.5, not 1.")]
    [InlineData("""{"name":"x","description":"","paper":"","token_budget":10,"parts":[{"name":"a","repo":"o/r","revision":"main","files":["f"],"format":"parquet","text_field":"text","share":1,"note":"","where":{"field":"a","value":"b"}}]}""", "x.json: part \"a\": \"where\" filters JSON Lines records only.")]
    [InlineData("""{"name":"x","description":"","paper":"","token_budget":10,"parts":[{"name":"a","revision":"main","files":["f"],"format":"jsonl","text_field":"text","share":1,"note":""}]}""", "x.json: JSON deserialization for type 'OptNeurons.Corpus.RecipePart' was missing required properties including: 'repo'.")]
    public void Parse_Errors_NameTheRecipeAndTheProblem(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => Recipe.Parse(json, "x.json"));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void Parse_RejectsAMisspeltKey()
    {
        var json = """{"name":"x","description":"","paper":"","token_budget":10,"parts":[],"budget":5}""";
        Assert.Contains("budget", Assert.Throws<InvalidDataException>(() => Recipe.Parse(json, "x.json")).Message);
    }

    /// <summary>Writes a small stand-in for each requested dataset file and records the request.</summary>
    sealed class FakeHub(string root)
    {
        public List<(string Repo, string Revision, string Path)> Calls { get; } = [];

        static readonly string[] Subsets = ["Wikipedia (en)", "DM Mathematics", "HackerNews", "EuroParl", "FreeLaw", "PubMed Abstracts", "StackExchange", "Pile-CC"];

        public string Download(string repo, string revision, string path)
        {
            Calls.Add((repo, revision, path));
            var local = Path.Combine(root, repo.Replace('/', '_'), path);
            Directory.CreateDirectory(Path.GetDirectoryName(local)!);
            if (path.EndsWith(".parquet", StringComparison.Ordinal)) WriteComments(local);
            else if (path.EndsWith(".gz", StringComparison.Ordinal))
            {
                using var z = new GZipStream(File.Create(local), CompressionLevel.Fastest);
                using var w = new StreamWriter(z);
                for (int i = 0; i < 40; i++) w.WriteLine(JsonSerializer.Serialize(new { content = Words("def", i), repo_name = "r" }));
            }
            else File.WriteAllLines(local, Subsets.SelectMany(s => Enumerable.Range(0, 40).Select(i =>
                JsonSerializer.Serialize(new { text = Words(s.Replace(' ', '_'), i), meta = new { pile_set_name = s } }))));
            return local;
        }

        static string Words(string tag, int i) => string.Join(' ', Enumerable.Range(0, 5 + i % 9).Select(w => $"{tag}{w}"));

        static void WriteComments(string path)
        {
            var body = new DataField<string>("body");
            string[] rows = [.. Enumerable.Range(0, 60).Select(i => i % 4 == 0 ? "[deleted]" : i % 4 == 1 ? "[removed]" : Words("comment", i))];
            using var stream = File.Create(path);
            var writer = ParquetWriter.CreateAsync(new ParquetSchema(body), stream).GetAwaiter().GetResult();
            using (var g = writer.CreateRowGroup()) g.WriteAsync(body, rows).GetAwaiter().GetResult();
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }
}
