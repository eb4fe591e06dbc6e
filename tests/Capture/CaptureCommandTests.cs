using OptNeurons.Cli;
using OptNeurons.Loading;
using OptNeurons.Stats;
using OptNeurons.Tests.Model;
using OptNeurons.Tests.Support;
using OptNeurons.Tokenization;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Capture;

/// <summary>The capture command end to end, as a user runs it.</summary>
public class CaptureCommandTests
{
    public static TheoryData<string> Fixtures_ => Fixtures.Names;

    [Theory, MemberData(nameof(Fixtures_))]
    public void JsonInput_WritesStatsActivationsAndLogits_MatchingTheReference(string fixture)
    {
        using var dir = new TempDirectory();
        var reference = Fixtures.Reference(fixture);
        var (ids, mask) = reference.Batch;
        var input = dir.Sub("batch.json");
        File.WriteAllText(input, System.Text.Json.JsonSerializer.Serialize(new { input_ids = ids, attention_mask = mask }));
        var output = dir.Sub("out");
        Assert.Equal(0, CaptureCommand.Run(["--model", reference.ModelDirectory, "--json", input, "--out", output, "--activations", "--logits", "--batch-size", "3", "--seed", "11"]));

        var stats = NeuronStats.Load(output);
        Assert.Equal(mask.Sum(r => r.Sum()), stats.TokenCount);
        Assert.Equal(11, stats.Manifest.Seed);
        Assert.Equal(reference.ModelDirectory, stats.Manifest.Model);

        using var scope = NewDisposeScope();
        var real = Fixtures.ToTensor(mask).to(ScalarType.Bool);
        var activations = SafeTensors.ReadAll(Path.Combine(output, "activations.safetensors"));
        Assert.True(activations["input_ids"].eq(Fixtures.ToTensor(ids)).all().item<bool>());
        var expected = Fixtures.ToTensor(reference.Activations, reference.ActivationsShape);
        int layers = (int)expected.shape[0];
        Assert.Equal(layers, stats.Layers.Count);
        double tolerance = reference.Tolerance(reference.Activations);
        for (int l = 0; l < layers; l++)
            Assert.InRange((activations[$"blocks.{l}.mlp.hook_post"][real] - expected[l][real]).abs().max().item<float>(), 0, tolerance);
        var logits = SafeTensors.ReadAll(Path.Combine(output, "logits.safetensors"))["logits"];
        Assert.InRange((logits[real] - Fixtures.ToTensor(reference.Logits, reference.LogitsShape)[real]).abs().max().item<float>(), 0, reference.Tolerance(reference.Logits));
        // Every counted activation of the statistics is also a positive value in the dump (same model, same tokens).
        for (int l = 0; l < layers; l++)
            Assert.Equal(activations[$"blocks.{l}.mlp.hook_post"][real].gt(0).sum(0L).data<long>().ToArray(), stats.ActiveCounts(l).ToArray());
    }

    [Fact]
    public void FirstLayersOnly_DumpsTheActivationsOfThoseLayers()
    {
        using var dir = new TempDirectory();
        var input = dir.Sub("batch.json");
        File.WriteAllText(input, """{"input_ids": [[2, 10, 11, 12]]}""");
        var output = dir.Sub("out");
        Assert.Equal(0, CaptureCommand.Run(["--model", Fixtures.TinyPreLn, "--json", input, "--out", output, "--layers", "2", "--activations"]));
        var names = SafeTensors.ReadHeader(Path.Combine(output, "activations.safetensors")).Entries.Keys.Order(StringComparer.Ordinal);
        Assert.Equal(["attention_mask", "blocks.0.mlp.hook_post", "blocks.1.mlp.hook_post", "input_ids"], names);
        Assert.Equal([0, 1], NeuronStats.Load(output).Layers);
        Assert.False(File.Exists(Path.Combine(output, "logits.safetensors")));
        // The activations of the first two layers are those of a whole-model run with logits.
        var whole = dir.Sub("whole");
        Assert.Equal(0, CaptureCommand.Run(["--model", Fixtures.TinyPreLn, "--json", input, "--out", whole, "--activations", "--logits"]));
        foreach (var name in new[] { "blocks.0.mlp.hook_post", "blocks.1.mlp.hook_post" })
            Assert.Equal(SafeTensors.ReadAll(Path.Combine(whole, "activations.safetensors"))[name].data<float>().ToArray(),
                         SafeTensors.ReadAll(Path.Combine(output, "activations.safetensors"))[name].data<float>().ToArray());
    }

    [Fact]
    public void TextInput_IsTokenizedWithTheSnapshotsVocabulary_AndCutIntoBosWindows()
    {
        using var dir = new TempDirectory();
        var config = SyntheticWeights.TinyConfig() with { VocabSize = 50272, MaxPositionEmbeddings = 16 };
        var weights = SyntheticWeights.Create(config, seed: 3);
        var model = CheckpointWriter.Write(dir.Sub("model"), weights, config);
        Gpt2VocabularyFiles.WriteOptFiles(model);
        string[] texts = [dir.Sub("a.txt"), dir.Sub("b.txt")];
        File.WriteAllText(texts[0], "The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times.");
        File.WriteAllText(texts[1], "Call me Ishmael.");
        var output = dir.Sub("out");
        Assert.Equal(0, CaptureCommand.Run(["--model", model, "--text", .. texts, "--out", output, "--max-length", "8", "--exclude-bos"]));

        var stats = NeuronStats.Load(output);
        var tokenizer = OptTokenizer.FromDirectory(model);
        int[] tokens = texts.Select(t => tokenizer.Encode(File.ReadAllText(t), addBos: false).Count).ToArray();
        Assert.Equal(tokens.Sum(t => (t + 6) / 7), stats.SequenceCount);   // each file cut into windows of BOS + 7 tokens
        Assert.Equal(tokens.Sum(), stats.TokenCount);                      // BOS excluded by --exclude-bos
        Assert.Equal(8, stats.MaxLength);
        Assert.False(stats.Options.IncludeFirstPosition);
    }

    [Fact]
    public void SdkDocsCorpus_IsSampledWithTheSeed_AndRecordedInTheManifest()
    {
        using var dir = new TempDirectory();
        var config = SyntheticWeights.TinyConfig() with { VocabSize = 50272, MaxPositionEmbeddings = 16 };
        var model = CheckpointWriter.Write(dir.Sub("model"), SyntheticWeights.Create(config, seed: 4), config);
        Gpt2VocabularyFiles.WriteOptFiles(model);
        string[] args = ["--model", model, "--data", "sdk-docs", "--tokens", "600", "--max-length", "16", "--full-length", "--seed", "7"];
        Assert.Equal(0, CaptureCommand.Run([.. args, "--out", dir.Sub("a")]));
        Assert.Equal(0, CaptureCommand.Run([.. args, "--out", dir.Sub("b")]));
        var a = NeuronStats.Load(dir.Sub("a"));
        Assert.Equal(a.ActiveCounts(0).ToArray(), NeuronStats.Load(dir.Sub("b")).ActiveCounts(0).ToArray());   // same seed, same sample
        Assert.Equal(a.SequenceCount * 16, a.TokenCount);            // full-length only: every sequence fills all 16 positions
        Assert.All(a.PositionTokenCounts.ToArray(), c => Assert.Equal(a.SequenceCount, c));
        Assert.Contains("sdk-docs", a.Manifest.Data, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(7, a.Manifest.Seed);
        // Without --seed the corpus is sampled with seed 0, and the manifest says so: an explicit --seed 0 is the same job.
        string[] unseeded = ["--model", model, "--data", "sdk-docs", "--tokens", "600", "--max-length", "16", "--full-length", "--out", dir.Sub("c")];
        Assert.Equal(0, CaptureCommand.Run(unseeded));
        Assert.Equal(0, NeuronStats.Load(dir.Sub("c")).Manifest.Seed);
        Assert.Equal(0, CaptureCommand.Run([.. unseeded, "--seed", "0"]));
    }

    [Fact]
    public void NgramOrders_ChooseTheSummariesKept_AndLeaveTheExactCountsAlone()
    {
        using var dir = new TempDirectory();
        var input = dir.Sub("ids.json");
        File.WriteAllText(input, System.Text.Json.JsonSerializer.Serialize(new { input_ids = Fixtures.StatsSequences() }));
        string[] args = ["--model", Fixtures.TinyPreLn, "--json", input, "--batch-size", "4"];
        Assert.Equal(0, CaptureCommand.Run([.. args, "--out", dir.Sub("all")]));
        Assert.Equal(0, CaptureCommand.Run([.. args, "--out", dir.Sub("none"), "--ngram-orders", "none"]));
        Assert.Equal(0, CaptureCommand.Run([.. args, "--out", dir.Sub("two"), "--ngram-orders", "2"]));
        NeuronStats all = NeuronStats.Load(dir.Sub("all")), none = NeuronStats.Load(dir.Sub("none")), two = NeuronStats.Load(dir.Sub("two"));
        Assert.Equal([1, 2, 3], all.Options.NgramOrders);
        Assert.Empty(none.Options.NgramOrders);
        Assert.Equal([2], two.Options.NgramOrders);
        for (int l = 0; l < 3; l++)
        {
            Assert.Equal(all.ActiveCounts(l).ToArray(), none.ActiveCounts(l).ToArray());
            Assert.Equal(all.ActiveCounts(l).ToArray(), two.ActiveCounts(l).ToArray());
        }
    }

    [Theory]
    [InlineData(new[] { "--model", "m", "--out", "o", "--json", "x", "--ngram-orders", "1,4" }, "--ngram-orders must be orders 1, 2 or 3")]
    [InlineData(new[] { "--model", "m", "--out", "o" }, "give exactly one input")]
    [InlineData(new[] { "--model", "m", "--out", "o", "--data", "x", "--json", "y" }, "give exactly one input")]
    [InlineData(new[] { "--model", "m", "--out", "o", "--json", "x", "--batch-size", "0" }, "--batch-size must be a positive integer")]
    [InlineData(new[] { "--model", "m", "--out", "o", "--json", "x", "--colour", "red" }, "unknown option(s): --colour")]
    [InlineData(new[] { "--out", "o", "--json", "x" }, "option --model is required")]
    [InlineData(new[] { "--model", "m", "--out", "o", "--json", "x", "--seed", "abc" }, "option --seed must be a whole number of at least 0, got 'abc'")]
    [InlineData(new[] { "--model", "m", "--out", "o", "--data", "sdk-docs", "--tokens", "0" }, "option --tokens must be a whole number of at least 1")]
    [InlineData(new[] { "--model", "m", "--out", "o", "--json", "no-such.json" }, "--json: 'no-such.json' is not a file.")]
    [InlineData(new[] { "--model", "m", "--out", "o", "--text", "a-missing.txt" }, "--text: 'a-missing.txt' is not a file.")]
    [InlineData(new[] { "--model", "m", "--out", "o", "--text", "Fixtures" }, "is not a file (it is a folder; give the files in it)")]
    [InlineData(new[] { "--model", "m", "--out", "Fixtures/opt-tiny-pre-ln/config.json", "--json", "x" }, "--out 'Fixtures/opt-tiny-pre-ln/config.json' is a file; give a folder")]
    public void BadArguments_AreNamed(string[] args, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => CaptureCommand.Run(args));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MaxLength_MustHoldATokenAfterBos_AndEveryJsonRow()
    {
        using var dir = new TempDirectory();
        var input = dir.Sub("batch.json");
        File.WriteAllText(input, """{"input_ids": [[2, 10, 11, 12, 13], [2, 20]]}""");
        string Refusal(string maxLength) => Assert.Throws<ArgumentException>(() => CaptureCommand.Run(
            ["--model", Fixtures.TinyPreLn, "--json", input, "--out", dir.Sub("out"), "--max-length", maxLength])).Message;
        Assert.Equal("--max-length 1 leaves no room for a token after </s>; give at least 2.", Refusal("1"));
        Assert.StartsWith($"--max-length 4: row 0 of {input} has 5 real tokens", Refusal("4"));
        Assert.Equal(0, CaptureCommand.Run(["--model", Fixtures.TinyPreLn, "--json", input, "--out", dir.Sub("out"), "--max-length", "5"]));
    }
}
