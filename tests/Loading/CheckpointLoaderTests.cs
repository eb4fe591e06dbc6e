using OptNeurons.Loading;
using OptNeurons.Tests.Support;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Loading;

/// <summary>CheckpointLoader.Load into stand-in modules: values, tying, ignorable keys, strictness, dtypes.</summary>
public sealed class CheckpointLoaderTests : IDisposable
{
    const string Embed = "model.decoder.embed_tokens.weight";
    static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "opt-tiny-pre-ln");
    readonly TempDirectory temp = new();

    public CheckpointLoaderTests() => OptNeurons.Runtime.TorchRuntime.Initialize();

    public void Dispose() => temp.Dispose();

    static Dictionary<string, string> TiedHead => new() { ["lm_head.weight"] = Embed };

    static ParameterTree TreeFor(Checkpoint checkpoint, bool withHead, IReadOnlyDictionary<string, string>? ties = null) =>
        ParameterTree.Build(checkpoint.Tensors.Values.Where(t => t.Name != "lm_head.weight")
            .Select(t => KeyValuePair.Create(t.Name, t.Shape.ToArray()))
            .Concat(withHead && ties is null ? [KeyValuePair.Create("lm_head.weight", checkpoint.Tensors[Embed].Shape.ToArray())] : []),
            ties: ties);

    [Fact]
    public void FixtureWithoutStoredHead_FillsEveryParameter_AndKeepsTheModulesOwnTiedParameters()
    {
        var checkpoint = Checkpoint.Open(CheckpointWriter.CopySubset(Fixture, temp.Path, "st", "model.safetensors"));
        using var model = TreeFor(checkpoint, withHead: true, TiedHead);
        var before = model.state_dict();
        Assert.Same(before[Embed], before["lm_head.weight"]);

        CheckpointLoader.Load(model, checkpoint);

        var after = model.state_dict();
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, kv => Assert.Same(kv.Value, after[kv.Key]));   // copied in place: hooks and ties survive
        Assert.Same(after[Embed], after["lm_head.weight"]);
        foreach (var (name, parameter) in model.state_dict())
        {
            using var expected = checkpoint.Read(name == "lm_head.weight" ? Embed : name, ScalarType.Float32, CPU);
            FixtureLayoutTests.AssertBitEqual(expected, parameter, name);
        }
        Assert.False(after["model.decoder.layers.2.fc2.bias"].isnan().any().item<bool>());
    }

    [Fact]
    public void TiedConfig_GivesAnUnsharedHead_TheEmbedding_EvenWhenAnotherHeadIsStored()
    {
        var config = SyntheticWeights.TinyConfig();
        var weights = SyntheticWeights.Create(config, seed: 2);
        weights["lm_head.weight"] = randn(weights[Embed].shape);   // stored but irrelevant: HF ties it anyway
        var checkpoint = Checkpoint.Open(CheckpointWriter.Write(temp.Sub("tied"), weights, config));
        using var model = ParameterTree.Like(weights);
        CheckpointLoader.Load(model, checkpoint);
        var loaded = model.state_dict();
        FixtureLayoutTests.AssertBitEqual(weights[Embed], loaded["lm_head.weight"], "lm_head.weight");
        Assert.NotSame(loaded[Embed], loaded["lm_head.weight"]);
    }

    [Fact]
    public void UntiedConfig_LoadsTheStoredHead_AndReportsItMissingWhenAbsent()
    {
        var config = SyntheticWeights.TinyConfig() with { TieWordEmbeddings = false };
        var weights = SyntheticWeights.Create(config, seed: 3);
        Assert.Contains("lm_head.weight", weights.Keys);
        using var model = ParameterTree.Like(weights);
        CheckpointLoader.Load(model, Checkpoint.Open(CheckpointWriter.Write(temp.Sub("untied"), weights, config)));
        FixtureLayoutTests.AssertBitEqual(weights["lm_head.weight"], model.state_dict()["lm_head.weight"], "lm_head.weight");
        Assert.False(weights["lm_head.weight"].eq(weights[Embed]).all().item<bool>());

        var headless = weights.Where(kv => kv.Key != "lm_head.weight").ToDictionary();
        var checkpoint = Checkpoint.Open(CheckpointWriter.Write(temp.Sub("headless"), headless, config));
        var error = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Load(model, checkpoint));
        Assert.Contains("missing from the checkpoint (1):\n    lm_head.weight", error.Message);
    }

    [Fact]
    public void StoredFinalNorm_IsIgnoredWithoutOne_AndUnexpectedWithOne()
    {
        var postLn = SyntheticWeights.TinyConfig() with { DoLayerNormBefore = false };
        var weights = SyntheticWeights.Create(postLn, seed: 4);
        Assert.DoesNotContain("model.decoder.final_layer_norm.weight", weights.Keys);
        using var model = ParameterTree.Like(weights);
        var stored = new Dictionary<string, Tensor>(weights)
        {
            ["model.decoder.final_layer_norm.weight"] = ones(8), ["model.decoder.final_layer_norm.bias"] = zeros(8),
        };
        CheckpointLoader.Load(model, Checkpoint.Open(CheckpointWriter.Write(temp.Sub("post"), stored, postLn)));
        FixtureLayoutTests.AssertBitEqual(weights["model.decoder.layers.1.fc1.weight"], model.state_dict()["model.decoder.layers.1.fc1.weight"], "fc1");

        var preLn = Checkpoint.Open(CheckpointWriter.Write(temp.Sub("pre"), stored, SyntheticWeights.TinyConfig()));
        var error = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Load(model, preLn));
        Assert.Contains("unexpected in the checkpoint (not in the model) (2):", error.Message);
        Assert.Contains("model.decoder.final_layer_norm.bias (in model.safetensors)", error.Message);
    }

    [Fact]
    public void MissingExtraAndMisshapedTensors_AreReportedTogether_AndNothingIsCopied()
    {
        var config = SyntheticWeights.TinyConfig();
        var weights = SyntheticWeights.Create(config, seed: 5);
        var stored = weights.Where(kv => kv.Key != "model.decoder.layers.0.fc1.bias").ToDictionary();
        stored["model.decoder.layers.1.adapter.weight"] = zeros(2, 2);
        stored["model.decoder.layers.1.fc2.weight"] = zeros(8, 15);
        var directory = CheckpointWriter.Write(temp.Sub("bad"), stored, config, CheckpointFormat.BinSharded);
        using var model = ParameterTree.Like(weights);

        var error = Assert.Throws<InvalidDataException>(() => CheckpointLoader.Load(model, Checkpoint.Open(directory)));
        Assert.Contains(Path.GetFullPath(directory), error.Message);
        Assert.Contains("bin-sharded: pytorch_model.bin.index.json -> pytorch_model-00001-of-00002.bin, pytorch_model-00002-of-00002.bin", error.Message);
        Assert.Contains("missing from the checkpoint (1):\n    model.decoder.layers.0.fc1.bias", error.Message);
        Assert.Contains("unexpected in the checkpoint (not in the model) (1):\n    model.decoder.layers.1.adapter.weight (in pytorch_model-00002-of-00002.bin)", error.Message);
        Assert.Contains("shape mismatch (1):\n    model.decoder.layers.1.fc2.weight: checkpoint [8, 15] in pytorch_model-00002-of-00002.bin, model [8, 16]", error.Message);
        Assert.All(model.parameters(), p => Assert.True(p.isnan().all().item<bool>()));
    }

    [Fact]
    public void HalfPrecisionTargets_GetTheStoredValuesRounded_AndDtypeRoundsThroughIt()
    {
        var config = SyntheticWeights.TinyConfig();
        var weights = SyntheticWeights.Create(config, seed: 6);
        var checkpoint = Checkpoint.Open(CheckpointWriter.Write(temp.Sub("fp32"), weights, config));
        const string key = "model.decoder.layers.0.self_attn.q_proj.weight";
        using var expected = weights[key].to(ScalarType.BFloat16);

        using var bf16 = ParameterTree.Like(weights, ScalarType.BFloat16);
        CheckpointLoader.Load(bf16, checkpoint);
        FixtureLayoutTests.AssertBitEqual(expected, bf16.state_dict()[key], key);

        using var fp32 = ParameterTree.Like(weights);
        CheckpointLoader.Load(fp32, checkpoint, dtype: ScalarType.BFloat16);
        FixtureLayoutTests.AssertBitEqual(expected.to(ScalarType.Float32), fp32.state_dict()[key], key);
    }

    [Fact]
    public void WeightsStoredAsIntegers_AreRefused_NotCastToNumbers()
    {
        // The same bytes labelled I32 instead of F32: a valid file whose fc1 weight would load as integers.
        var directory = CheckpointWriter.CopySubset(Fixture, temp.Path, "int-weights", "model.safetensors");
        var file = Path.Combine(directory, "model.safetensors");
        var bytes = File.ReadAllBytes(file);
        var entry = System.Text.Encoding.ASCII.GetBytes("\"model.decoder.layers.0.fc1.weight\":{\"dtype\":\"F32\"");
        int at = bytes.AsSpan().IndexOf(entry);
        Assert.True(at > 0);
        bytes[at + entry.Length - 4] = (byte)'I';
        File.WriteAllBytes(file, bytes);
        var error = Assert.Throws<InvalidDataException>(() => Pretrained.Load(directory, "cpu"));
        Assert.Contains("stored as integers or booleans, not as floating-point weights", error.Message);
        Assert.Contains("model.decoder.layers.0.fc1.weight: Int32 in model.safetensors", error.Message);
    }

    [Fact]
    public void AConfigThatDoesNotFitItsWeights_IsRefusedBeforeAnyAllocation()
    {
        // vocab_size 2·10^9 would make a 256 GB embedding: the error must come from the shapes, not the allocator.
        var directory = FixtureWithConfig("huge-vocab", c => c["vocab_size"] = 2_000_000_000);
        var expected = "shape mismatch (2):\n" +
                       "    model.decoder.embed_tokens.weight: checkpoint [4096, 32] in model.safetensors, model [2000000000, 32]\n" +
                       "    lm_head.weight: checkpoint [4096, 32] in model.safetensors, model [2000000000, 32]";
        var loadError = Assert.Throws<InvalidDataException>(() => Pretrained.Load(directory, "cpu"));
        Assert.StartsWith($"{directory} (safetensors: model.safetensors) does not match the model its config.json describes:", loadError.Message);
        Assert.EndsWith(expected, loadError.Message);
        var streamError = Assert.Throws<InvalidDataException>(() => OptNeurons.Capture.LayerStreamedEngine.Open(directory, "cpu"));
        Assert.Equal(loadError.Message, streamError.Message);
    }

    [Fact]
    public void ALayerMissingAtTheEnd_IsFoundWhenAStreamedCaptureOpens_NotWhenItGetsThere()
    {
        var directory = FixtureWithConfig("one-layer-more", c => c["num_hidden_layers"] = 4);
        var error = Assert.Throws<InvalidDataException>(() => OptNeurons.Capture.LayerStreamedEngine.Open(directory, "cpu"));
        Assert.Contains("missing from the checkpoint (16):\n    model.decoder.layers.3.", error.Message);
        Assert.DoesNotContain("shape mismatch", error.Message);
    }

    /// <summary>opt-tiny-pre-ln's safetensors weights beside its config.json as <paramref name="edit"/> leaves it.</summary>
    string FixtureWithConfig(string name, Action<System.Text.Json.Nodes.JsonObject> edit)
    {
        var directory = temp.Sub(name);
        Directory.CreateDirectory(directory);
        File.Copy(Path.Combine(Fixture, "model.safetensors"), Path.Combine(directory, "model.safetensors"));
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture, "config.json")))!.AsObject();
        edit(config);
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJsonString());
        return directory;
    }

    [Fact]
    public void PrefixWithoutTrailingDot_IsRefused()
    {
        var checkpoint = Checkpoint.Open(Fixture);
        using var layer = ParameterTree.Build([KeyValuePair.Create("fc1.bias", new long[] { 128 })]);
        var error = Assert.Throws<ArgumentException>(() => CheckpointLoader.Load(layer, checkpoint, "model.decoder.layers.1"));
        Assert.Contains("'model.decoder.layers.1' must end with '.'", error.Message);
    }
}
