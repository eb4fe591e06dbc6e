using OptNeurons.Loading;
using OptNeurons.Tests.Support;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Loading;

/// <summary>Checkpoints written by <see cref="CheckpointWriter"/>: key prefixes, storage dtypes, shards.</summary>
public sealed class GeneratedCheckpointTests : IDisposable
{
    readonly TempDirectory temp = new();
    readonly Dictionary<string, Tensor> weights = SyntheticWeights.Create(SyntheticWeights.TinyConfig(), seed: 1);

    public void Dispose()
    {
        foreach (var t in weights.Values) t.Dispose();
        temp.Dispose();
    }

    [Theory]
    [InlineData(CheckpointFormat.SafeTensors, "safetensors")]
    [InlineData(CheckpointFormat.SafeTensorsSharded, "safetensors-sharded")]
    [InlineData(CheckpointFormat.Bin, "bin")]
    [InlineData(CheckpointFormat.BinSharded, "bin-sharded")]
    public void BareDecoderKeys_AndModelPrefixedKeys_LoadTheSame(CheckpointFormat format, string layout)
    {
        var config = SyntheticWeights.TinyConfig();
        var prefixed = Checkpoint.Open(CheckpointWriter.Write(temp.Sub("prefixed"), weights, config, format, shards: 3));
        var bare = Checkpoint.Open(CheckpointWriter.Write(temp.Sub("bare"), weights, config, format, modelPrefix: false, shards: 3));
        Assert.Equal((layout, layout), (prefixed.Layout, bare.Layout));
        Assert.Equal(weights.Keys.Order(), prefixed.Tensors.Keys.Order());
        Assert.Equal(weights.Keys.Order(), bare.Tensors.Keys.Order());
        Assert.Equal("decoder.layers.1.fc2.weight", bare.Tensors["model.decoder.layers.1.fc2.weight"].StoredName);
        Assert.Equal("model.decoder.layers.1.fc2.weight", prefixed.Tensors["model.decoder.layers.1.fc2.weight"].StoredName);
        if (format is CheckpointFormat.SafeTensorsSharded or CheckpointFormat.BinSharded) Assert.Equal(3, bare.Files.Count);
        foreach (var (name, expected) in weights)
        {
            using var scope = NewDisposeScope();
            FixtureLayoutTests.AssertBitEqual(expected, prefixed.Read(name, ScalarType.Float32, CPU), name);
            FixtureLayoutTests.AssertBitEqual(expected, bare.Read(name, ScalarType.Float32, CPU), name);
        }
    }

    [Theory]
    [InlineData(CheckpointFormat.SafeTensors, ScalarType.Float16)]
    [InlineData(CheckpointFormat.SafeTensors, ScalarType.BFloat16)]
    [InlineData(CheckpointFormat.BinSharded, ScalarType.Float16)]
    [InlineData(CheckpointFormat.BinSharded, ScalarType.BFloat16)]
    public void HalfPrecisionStorage_ReadsBackAsTheRoundedValues(CheckpointFormat format, ScalarType storage)
    {
        var checkpoint = Checkpoint.Open(CheckpointWriter.Write(temp.Sub("half"), weights, SyntheticWeights.TinyConfig(), format, storage));
        Assert.All(checkpoint.Tensors.Values, t => Assert.Equal(storage, t.Dtype));
        foreach (var (name, original) in weights)
        {
            using var scope = NewDisposeScope();
            var rounded = original.to(storage);
            Assert.False(rounded.to(ScalarType.Float32).eq(original).all().item<bool>(), $"{name}: rounding must change random values");
            FixtureLayoutTests.AssertBitEqual(rounded, checkpoint.Read(name, storage, CPU), name);
            FixtureLayoutTests.AssertBitEqual(rounded.to(ScalarType.Float32), checkpoint.Read(name, ScalarType.Float32, CPU), name);
        }
    }

    [Theory]
    [InlineData(CheckpointFormat.SafeTensorsSharded)]
    [InlineData(CheckpointFormat.BinSharded)]
    public void ReadingOneLayer_TouchesOnlyTheShardHoldingIt(CheckpointFormat format)
    {
        const string layer1 = "model.decoder.layers.1.";
        var directory = CheckpointWriter.Write(temp.Sub("shards"), weights, SyntheticWeights.TinyConfig(), format,
                                               shardOf: name => name.StartsWith(layer1, StringComparison.Ordinal) ? 1 : 0);
        var checkpoint = Checkpoint.Open(directory);
        var other = checkpoint.Tensors["model.decoder.layers.0.fc1.weight"].File;
        Assert.All(checkpoint.Tensors.Values.Where(t => t.Name.StartsWith(layer1, StringComparison.Ordinal)), t => Assert.NotEqual(other, t.File));
        File.WriteAllBytes(other, new byte[16]);   // the shard without layer 1 is now garbage

        var layer = ParameterTree.Build(weights.Where(kv => kv.Key.StartsWith(layer1, StringComparison.Ordinal))
                                               .Select(kv => KeyValuePair.Create(kv.Key[layer1.Length..], kv.Value.shape)));
        CheckpointLoader.Load(layer, checkpoint, layer1);
        var loaded = layer.state_dict();
        Assert.Equal(16, loaded.Count);
        foreach (var (key, value) in loaded) FixtureLayoutTests.AssertBitEqual(weights[layer1 + key], value, key);

        // ...and the broken shard really is broken: reading from it fails, naming it.
        var error = Assert.ThrowsAny<Exception>(() => checkpoint.Read("model.decoder.layers.0.fc1.weight", ScalarType.Float32, CPU));
        Assert.Contains(Path.GetFileName(other), error.Message);
    }

    [Fact]
    public void Layouts_AreChosenInHuggingFaceOrder()
    {
        var config = SyntheticWeights.TinyConfig();
        // Each layout added outranks those already there: transformers checks model.safetensors, its index,
        // pytorch_model.bin, its index (modeling_utils.py, _get_resolved_checkpoint_files), in that order.
        var directory = CheckpointWriter.Write(temp.Sub("all"), weights, config, CheckpointFormat.BinSharded);
        Assert.Equal("bin-sharded", Checkpoint.Open(directory).Layout);
        CheckpointWriter.Write(directory, weights, config, CheckpointFormat.Bin);
        Assert.Equal("bin", Checkpoint.Open(directory).Layout);
        CheckpointWriter.Write(directory, weights, config, CheckpointFormat.SafeTensorsSharded);
        Assert.Equal("safetensors-sharded", Checkpoint.Open(directory).Layout);
        CheckpointWriter.Write(directory, weights, config, CheckpointFormat.SafeTensors);
        Assert.Equal("safetensors", Checkpoint.Open(directory).Layout);
    }
}
