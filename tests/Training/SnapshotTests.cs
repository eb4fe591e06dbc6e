using System.Text.Json.Nodes;
using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Tests.Support;
using OptNeurons.Training;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Training;

/// <summary>What the trainer writes is a HF snapshot that the project's strict loader reads back to the same logits.</summary>
[Collection(TrainingCollection.Name)]
public class SnapshotTests
{

    static OptForCausalLM Trained(TrainingSettings s)
    {
        var model = new OptForCausalLM(s.ModelConfig());
        OptInitializer.Apply(model, 2);
        using var noGrad = no_grad();
        using var generator = new Generator(9);
        foreach (var (_, p) in model.named_parameters()) p.add_(randn(p.shape, generator: generator) * 0.3);   // values far from init
        return model;
    }

    static Tensor Logits(OptForCausalLM model)
    {
        var ids = tensor(new long[] { 2, 17, 33, 5, 71, 9, 100, 4, 2, 8, 8, 8, 120, 3, 50, 60 }).reshape(2, 8);
        using var _ = inference_mode();
        return model.call(ids, ones_like(ids));
    }

    static JsonObject Config(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();

    [Fact]
    public void Float32Snapshot_LoadsBackBitExact_WithHuggingFaceNames()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        using var model = Trained(TinyRuns.Settings);
        HfSnapshot.Write(model, temp.Path, ScalarType.Float32, HfSnapshot.EnsureTokenizer(temp.Sub("tokenizer")));
        using var loaded = Pretrained.Load(temp.Path, "cpu", "float32");
        Assert.True(TensorAssert.Identical(Logits(model), Logits(loaded)), "logits differ after save and load");

        var header = SafeTensors.ReadHeader(Path.Combine(temp.Path, HfSnapshot.WeightsFile)).Entries;
        Assert.DoesNotContain("lm_head.weight", header.Keys);   // tied, omitted as save_pretrained does
        Assert.Equal(ScalarType.Float32, header["model.decoder.layers.1.fc1.weight"].Dtype);
        Assert.Equal([18L, 16L], header["model.decoder.embed_positions.weight"].Shape);   // max_position_embeddings + 2
        var config = Config(temp.Path);
        Assert.Equal("float32", (string?)config["torch_dtype"]);
        Assert.Equal("OPTForCausalLM", (string?)config["architectures"]![0]);
        Assert.Equal(16, (int?)config["max_position_embeddings"]);
        Assert.Equal(64, (int?)config["ffn_dim"]);
        Assert.Null(config["position_embedding_type"]);   // learned positions: HF's config has no such key
        Assert.Equal(config.Select(kv => kv.Key).Order(StringComparer.Ordinal), config.Select(kv => kv.Key));   // sorted, as HF writes
        Assert.True(File.Exists(Path.Combine(temp.Path, "vocab.json")) && File.Exists(Path.Combine(temp.Path, "merges.txt")));
    }

    [Fact]
    public void Float16Snapshot_LoadsBackAsTheModelRoundedToFloat16()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        using var model = Trained(TinyRuns.Settings);
        HfSnapshot.Write(model, temp.Path, ScalarType.Float16, HfSnapshot.EnsureTokenizer(temp.Sub("tokenizer")));
        using var loaded = Pretrained.Load(temp.Path, "cpu", "auto");   // fp16 storage, computed in float32 on the CPU
        Assert.Equal("float16", (string?)Config(temp.Path)["torch_dtype"]);
        Assert.Equal(ScalarType.Float16, SafeTensors.ReadHeader(Path.Combine(temp.Path, HfSnapshot.WeightsFile)).Entries["model.decoder.layers.0.fc2.weight"].Dtype);
        var exact = Logits(model);
        using (no_grad()) foreach (var (_, p) in model.named_parameters()) p.copy_(p.to(ScalarType.Float16).to(ScalarType.Float32));
        var fromFile = Logits(loaded);
        Assert.True(TensorAssert.Identical(fromFile, Logits(model)), "the fp16 file is not the model rounded to fp16");
        double error = (fromFile - exact).abs().max().item<float>(), scale = exact.abs().max().item<float>();
        Assert.InRange(error, 1e-7, 1e-2 * scale);   // rounding changed something, and only a little
    }

    [Fact]
    public void NoPosSnapshot_HasNoPositionalParameters_AndLoadsBack()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        using var model = Trained(TinyRuns.Settings with { LearnedPositions = false });
        HfSnapshot.Write(model, temp.Path, ScalarType.Float32, HfSnapshot.EnsureTokenizer(temp.Sub("tokenizer")));
        var keys = SafeTensors.ReadHeader(Path.Combine(temp.Path, HfSnapshot.WeightsFile)).Entries.Keys;
        Assert.DoesNotContain(keys, k => k.Contains("position", StringComparison.Ordinal));
        Assert.Equal(2 * 16 + 1 + 2, keys.Count());
        Assert.Equal("none", (string?)Config(temp.Path)["position_embedding_type"]);
        using var loaded = Pretrained.Load(temp.Path, "cpu", "float32");
        Assert.False(loaded.Config.HasLearnedPositions);
        Assert.True(TensorAssert.Identical(Logits(model), Logits(loaded)), "NoPos logits differ after save and load");
    }

    [Fact]
    public void PostLnSnapshot_IsOpt350msLayout_AndLoadsBack()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        using var model = Trained(TinyRuns.Settings with { PostLayerNorm = true });
        HfSnapshot.Write(model, temp.Path, ScalarType.Float32, HfSnapshot.EnsureTokenizer(temp.Sub("tokenizer")));
        Assert.False((bool)Config(temp.Path)["do_layer_norm_before"]!);
        var keys = SafeTensors.ReadHeader(Path.Combine(temp.Path, HfSnapshot.WeightsFile)).Entries.Keys;
        Assert.DoesNotContain(keys, k => k.Contains("final_layer_norm", StringComparison.Ordinal) && !k.Contains("layers.", StringComparison.Ordinal));
        using var loaded = Pretrained.Load(temp.Path, "cpu", "float32");
        Assert.False(loaded.Config.HasFinalLayerNorm);
        Assert.True(TensorAssert.Identical(Logits(model), Logits(loaded)), "post-LN logits differ after save and load");
    }
}
