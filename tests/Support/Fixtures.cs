using System.Text.Json;
using OptNeurons.Findings;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Support;

/// <summary>
/// The reference fixtures: tiny OPT checkpoints with logits, activations and counts from an independent implementation.
/// Every folder in tests/Fixtures is one; so is every folder of a <c>shared/fixtures</c> beside the repository, and of
/// <c>$OPTNEURONS_FIXTURES</c>, so that a new fixture dropped there is checked by every test
/// that takes <see cref="All"/> without a change to the code.
/// </summary>
public static class Fixtures
{
    public const string FixturesVariable = "OPTNEURONS_FIXTURES";

    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures");
    public static string TinyPreLn => Path.Combine(Root, "opt-tiny-pre-ln");

    /// <summary>Every fixture by label: its folder name, prefixed with "shared/" or "env/" when it comes from elsewhere.</summary>
    public static IReadOnlyDictionary<string, string> All { get; } = Discover();

    /// <summary>Every fixture's label.</summary>
    public static TheoryData<string> Names => [.. All.Keys];

    /// <summary>Every fixture's label with every weight layout its folder holds.</summary>
    public static TheoryData<string, string> NamesAndLayouts
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var (name, dir) in All)
                foreach (var layout in Layouts(dir)) data.Add(name, layout);
            return data;
        }
    }

    static Dictionary<string, string> Discover()
    {
        var all = ReferenceFixture.FoldersIn(Root).ToDictionary(d => Path.GetFileName(d), d => d);
        var repo = OptNeurons.Corpus.ProjectCache.FindCheckout(AppContext.BaseDirectory);
        var shared = repo is null ? null : Path.GetFullPath(Path.Combine(repo, "..", "shared", "fixtures"));
        foreach (var (prefix, root) in new[] { ("shared/", shared), ("env/", Environment.GetEnvironmentVariable(FixturesVariable)) })
            if (!string.IsNullOrEmpty(root))
                foreach (var dir in ReferenceFixture.FoldersIn(root)) all[prefix + Path.GetFileName(dir)] = dir;
        return all;
    }

    /// <summary>A fixture by label (see <see cref="All"/>); the default is the one HuggingFace's code computed.</summary>
    public static ReferenceFixture Reference(string name = "opt-tiny-pre-ln") => ReferenceFixture.Open(All[name]);

    /// <summary>The 4×12 reference batch of opt-tiny-pre-ln (unpadded, right-padded, left-padded rows).</summary>
    public static (long[][] Ids, long[][] Mask) ReferenceBatch() => Reference().Batch;

    /// <summary>The sequences behind opt-tiny-pre-ln's expected counts.</summary>
    public static long[][] StatsSequences() => [.. Reference().StatsSequences];

    public static Tensor ToTensor(long[][] rows) => tensor(rows.SelectMany(r => r).ToArray()).reshape(rows.Length, rows[0].Length);

    public static Tensor ToTensor(float[] values, long[] shape) => tensor(values).reshape(shape);

    /// <summary>The weight layouts a fixture folder holds, each named by the file that selects it.</summary>
    public static IEnumerable<string> Layouts(string fixture) =>
        new[] { "model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json" }
            .Where(f => File.Exists(Path.Combine(fixture, f)));

    /// <summary>A temporary folder holding a fixture's config.json and one of its weight layouts (an index with its shards).</summary>
    public static TempDirectory WithLayout(string fixture, string layout)
    {
        IEnumerable<string> files = [layout];
        if (layout.EndsWith(".index.json", StringComparison.Ordinal))
        {
            using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(fixture, layout)));
            files = [.. files, .. index.RootElement.GetProperty("weight_map").EnumerateObject().Select(p => p.Value.GetString()!).Distinct()];
        }
        var dir = new TempDirectory();
        CheckpointWriter.CopySubset(fixture, dir.Path, "", [.. files]);
        return dir;
    }

    /// <summary>Every layer's counts equal the reference's, or move no more in all than its compute dtype allows.</summary>
    public static void AssertCounts(ReferenceFixture reference, OptNeurons.Stats.NeuronStats stats)
    {
        if (!reference.IsExact)
        {
            Assert.InRange(ReferenceCheck.CountsMoved(stats, reference), 0, reference.CountsMovedAllowed);
            return;
        }
        for (int l = 0; l < reference.ActiveCounts.Count; l++)
        {
            Assert.Equal(reference.ActiveCounts[l], stats.ActiveCounts(l).ToArray());
            Assert.Equal(reference.DeadCounts[l], stats.ActiveCounts(l).ToArray().Count(c => c == 0));
        }
    }
}
