using OptNeurons.Loading;
using OptNeurons.Tests.Support;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Loading;

/// <summary>The shared fixture stores the same weights three ways; every layout must give the same tensors.</summary>
public sealed class FixtureLayoutTests : IDisposable
{
    static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "opt-tiny-pre-ln");
    readonly TempDirectory temp = new();

    public FixtureLayoutTests() => OptNeurons.Runtime.TorchRuntime.Initialize();

    public void Dispose() => temp.Dispose();

    Checkpoint OpenLayout(string layout) => Checkpoint.Open(layout switch
    {
        "bin" => CheckpointWriter.CopySubset(Fixture, temp.Path, layout, "pytorch_model.bin"),
        "safetensors" => CheckpointWriter.CopySubset(Fixture, temp.Path, layout, "model.safetensors"),
        _ => CheckpointWriter.CopySubset(Fixture, temp.Path, layout, "model.safetensors.index.json",
                                         "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"),
    });

    [Fact]
    public void WeightsFingerprint_IsTheSameForCopies_AndChangesWithTheWeights()
    {
        var a = CheckpointWriter.CopySubset(Fixture, temp.Path, "a", "model.safetensors");
        var b = CheckpointWriter.CopySubset(Fixture, temp.Path, "b", "model.safetensors");
        File.SetLastWriteTimeUtc(Path.Combine(b, "model.safetensors"), new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        Assert.Equal(Checkpoint.WeightsFingerprint(a), Checkpoint.WeightsFingerprint(b));   // path and time do not matter
        Assert.Matches("^[0-9a-f]{16}$", Checkpoint.WeightsFingerprint(a));

        // Other weights in the same shapes, as retraining leaves them: every value changes.
        var file = Path.Combine(b, "model.safetensors");
        var (entries, _) = SafeTensors.ReadHeader(file);
        var bytes = File.ReadAllBytes(file);
        var fc1 = entries["model.decoder.layers.1.fc1.weight"];
        for (long i = fc1.Begin; i < fc1.End; i += 4) bytes[i] ^= 0x5A;
        File.WriteAllBytes(file, bytes);
        Assert.NotEqual(Checkpoint.WeightsFingerprint(a), Checkpoint.WeightsFingerprint(b));
        Assert.NotEqual(Checkpoint.WeightsFingerprint(a), Checkpoint.WeightsFingerprint(CheckpointWriter.CopySubset(Fixture, temp.Path, "bin", "pytorch_model.bin")));
    }

    [Fact]
    public void AllThreeLayouts_GiveBitIdenticalTensors_UnderCanonicalNames()
    {
        var bin = OpenLayout("bin");
        var single = OpenLayout("safetensors");
        var sharded = OpenLayout("safetensors-sharded");
        Assert.Equal(("bin", "safetensors", "safetensors-sharded"), (bin.Layout, single.Layout, sharded.Layout));
        Assert.Equal(2, sharded.Files.Count);

        // 3 layers x 16 tensors + embeddings (2) + final norm (2); lm_head is stored by .bin and the shards only.
        Assert.Equal(52, single.Tensors.Count);
        Assert.DoesNotContain("lm_head.weight", single.Tensors.Keys);
        Assert.Contains("lm_head.weight", bin.Tensors.Keys);
        Assert.Contains("lm_head.weight", sharded.Tensors.Keys);
        Assert.True(single.Config.TieWordEmbeddings);
        var tied = single.Tensors.Keys.Order().ToList();
        Assert.Equal(tied, bin.Tensors.Keys.Where(k => k != "lm_head.weight").Order());
        Assert.Equal(tied, sharded.Tensors.Keys.Where(k => k != "lm_head.weight").Order());
        Assert.All(tied, k => Assert.StartsWith("model.decoder.", k));
        Assert.Equal([4096L, 32], single.Tensors["model.decoder.embed_tokens.weight"].Shape);
        Assert.Equal([66L, 32], single.Tensors["model.decoder.embed_positions.weight"].Shape);

        foreach (var name in tied)
        {
            using var scope = NewDisposeScope();
            var reference = single.Read(name, ScalarType.Float32, CPU);
            Assert.Equal(ScalarType.Float32, bin.Tensors[name].Dtype);
            AssertBitEqual(reference, bin.Read(name, ScalarType.Float32, CPU), name);
            AssertBitEqual(reference, sharded.Read(name, ScalarType.Float32, CPU), name);
        }
        // Where lm_head is stored it is the tied embedding, bit for bit (in the .bin it even shares its storage).
        using var embed = single.Read("model.decoder.embed_tokens.weight", ScalarType.Float32, CPU);
        using var binHead = bin.Read("lm_head.weight", ScalarType.Float32, CPU);
        using var shardHead = sharded.Read("lm_head.weight", ScalarType.Float32, CPU);
        AssertBitEqual(embed, binHead, "lm_head.weight");
        AssertBitEqual(embed, shardHead, "lm_head.weight");
        Assert.True(embed.abs().sum().item<float>() > 0, "the embedding must hold real values");
    }

    /// <summary>
    /// A folder holding every layout is read from model.safetensors alone, as transformers reads it (the order itself:
    /// GeneratedCheckpointTests); a layout not chosen is never opened.
    /// </summary>
    [Fact]
    public void FolderWithSeveralLayouts_ReadsOnlyTheChosenOne()
    {
        var all = Checkpoint.Open(Fixture);
        Assert.Equal(("safetensors", null), (all.Layout, all.Index));
        Assert.Equal([Path.Combine(Fixture, "model.safetensors")], all.Files);
        var bins = CheckpointWriter.CopySubset(Fixture, temp.Path, "bins", "pytorch_model.bin");
        File.WriteAllText(Path.Combine(bins, "pytorch_model.bin.index.json"), "not even JSON: a layout not chosen is never read");
        Assert.Equal("bin", Checkpoint.Open(bins).Layout);
    }

    internal static void AssertBitEqual(Tensor expected, Tensor actual, string name)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.True(expected.contiguous().bytes.SequenceEqual(actual.contiguous().bytes), $"{name} differs");
    }
}
