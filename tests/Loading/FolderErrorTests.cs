using OptNeurons.Loading;
using OptNeurons.Tests.Support;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Loading;

/// <summary>Bad folders, configs and indexes fail at Open with a message naming the path and the offending key or value.</summary>
public sealed class FolderErrorTests : ErrorTestBase
{
    [Fact]
    public void AFileInsteadOfAFolder()
    {
        var file = temp.Sub("config.json");
        File.WriteAllText(file, "{}");
        Fails<DirectoryNotFoundException>(file, file, "is a file", "give the folder that holds it");
    }

    [Fact]
    public void MissingFolder() => Fails<DirectoryNotFoundException>(temp.Sub("nowhere"), temp.Sub("nowhere"), "does not exist");

    [Fact]
    public void EmptyFolder() => Fails<FileNotFoundException>(Directory.CreateDirectory(temp.Sub("empty")).FullName, "empty", "config.json");

    [Fact]
    public void NoConfig()
    {
        var directory = Directory.CreateDirectory(temp.Sub("noconfig")).FullName;
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), [0]);
        Fails<FileNotFoundException>(directory, Path.Combine(directory, "config.json"), "not found");
    }

    [Fact]
    public void CacheRepositoryFolder_PointsToItsSnapshots()
    {
        var directory = Directory.CreateDirectory(temp.Sub("models--facebook--opt-125m")).FullName;
        Directory.CreateDirectory(Path.Combine(directory, "snapshots", "abc123"));
        Fails<FileNotFoundException>(directory, "looks like a HuggingFace cache repository folder", "snapshots/<revision>");
    }

    [Fact]
    public void NoWeights_ListsTheFilesLookedFor()
    {
        var directory = Folder("noweights");
        File.WriteAllText(Path.Combine(directory, "tf_model.h5"), "");
        Fails<FileNotFoundException>(directory, directory, "model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json",
                                     "holds: config.json, tf_model.h5");
    }

    [Theory]
    [InlineData("gpt2", "relu", "model_type is 'gpt2'")]
    [InlineData("opt", "gelu", "activation_function is 'gelu'")]
    public void UnsupportedConfigs_ReachTheUser(string modelType, string activation, string expected)
    {
        var config = FixtureConfig.Replace("\"model_type\": \"opt\"", $"\"model_type\": \"{modelType}\"")
                                  .Replace("\"activation_function\": \"relu\"", $"\"activation_function\": \"{activation}\"");
        var directory = Folder(modelType + activation, config);
        Fails<NotSupportedException>(directory, Path.Combine(directory, "config.json"), expected);
    }

    [Theory]
    [InlineData("\"hidden_size\": 32", "\"hidden_size\": 30", "hidden_size 30 is not divisible by num_attention_heads 4")]
    [InlineData("\"vocab_size\": 4096", "\"vocab_size\": 0", "vocab_size must be positive, got 0")]
    [InlineData("\"dropout\": 0.1", "\"dropout\": 1.5", "dropout (1.5) and attention_dropout (0) must be in [0, 1)")]
    [InlineData("\"hidden_size\": 32", "\"hidden_size\": 32,,", "not a valid config.json")]
    public void InvalidConfigValues_NameTheKey(string key, string replacement, string expected)
    {
        Assert.Contains(key, FixtureConfig);   // the edit below must change something
        var directory = Folder("config", FixtureConfig.Replace(key, replacement));
        Fails<InvalidDataException>(directory, Path.Combine(directory, "config.json"), expected);
    }

    [Theory]
    [InlineData(CheckpointFormat.SafeTensorsSharded, "model.safetensors.index.json", "model-00002-of-00002.safetensors")]
    [InlineData(CheckpointFormat.BinSharded, "pytorch_model.bin.index.json", "pytorch_model-00002-of-00002.bin")]
    public void IndexNamingAMissingShard(CheckpointFormat format, string index, string shard)
    {
        using var scope = NewDisposeScope();
        var directory = Sharded("shards", format);
        File.Delete(Path.Combine(directory, shard));
        Fails<FileNotFoundException>(directory, Path.Combine(directory, index), $"names shard '{shard}', which does not exist");
    }

    [Theory]
    [InlineData("\"../model-00001-of-00002.safetensors\"", "names shard '\"../model-00001-of-00002.safetensors\"'; expected a file name in the same folder")]
    [InlineData("\"/etc/passwd\"", "names shard '\"/etc/passwd\"'; expected a file name in the same folder")]
    [InlineData("7", "names shard '7'; expected a file name in the same folder")]
    public void IndexPointingOutsideItsFolder(string shard, string expected)
    {
        using var scope = NewDisposeScope();
        var directory = Sharded("outside", CheckpointFormat.SafeTensorsSharded);
        var index = Path.Combine(directory, "model.safetensors.index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"model.decoder.layers.1.fc2.bias\":\"model-00002-of-00002.safetensors\"",
                                                                 $"\"model.decoder.layers.1.fc2.bias\":{shard}"));
        Fails<InvalidDataException>(directory, index, "weight_map entry 'model.decoder.layers.1.fc2.bias'", expected);
    }

    [Theory]
    [InlineData("{}", "the index has no \"weight_map\" object")]
    [InlineData("{\"weight_map\": ", "not a valid index file")]
    public void IndexWithoutAWeightMap(string content, string expected)
    {
        using var scope = NewDisposeScope();
        var directory = Sharded("nomap", CheckpointFormat.SafeTensorsSharded);
        var index = Path.Combine(directory, "model.safetensors.index.json");
        File.WriteAllText(index, content);
        Fails<InvalidDataException>(directory, index, expected);
    }

    [Fact]
    public void IndexDisagreeingWithItsShards()
    {
        using var scope = NewDisposeScope();
        var directory = Sharded("wrongmap", CheckpointFormat.SafeTensorsSharded);
        var index = Path.Combine(directory, "model.safetensors.index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"model.decoder.layers.1.fc2.bias\":\"model-00002-of-00002.safetensors\"",
                                                                 "\"model.decoder.layers.1.fc2.bias\":\"model-00001-of-00002.safetensors\""));
        Fails<InvalidDataException>(directory, "weight_map says 'model.decoder.layers.1.fc2.bias' is in model-00001-of-00002.safetensors",
                                    "(it is in model-00002-of-00002.safetensors)");
    }

    [Fact]
    public void DuplicateNamesUnderBothPrefixes()
    {
        var directory = Folder("duplicate");
        SafeTensors.Write(Path.Combine(directory, "model.safetensors"), new Dictionary<string, Tensor>
        {
            ["decoder.embed_tokens.weight"] = zeros(2), ["model.decoder.embed_tokens.weight"] = ones(2),
        });
        Fails<InvalidDataException>(directory, "'model.decoder.embed_tokens.weight' is stored twice", "as 'decoder.embed_tokens.weight'");
    }

    [Fact]
    public void ReadingAnUnknownName()
    {
        var checkpoint = Checkpoint.Open(FixtureDirectory);
        var error = Assert.Throws<KeyNotFoundException>(() => checkpoint.Read("decoder.layers.0.fc1.weight", ScalarType.Float32, CPU));
        Assert.Contains("no tensor named 'decoder.layers.0.fc1.weight'", error.Message);
        Assert.Contains("opt-tiny-pre-ln", error.Message);
    }

    /// <summary>A generated tiny checkpoint in a sharded layout, whose index a test then edits.</summary>
    string Sharded(string name, CheckpointFormat format) =>
        CheckpointWriter.Write(temp.Sub(name), SyntheticWeights.Create(SyntheticWeights.TinyConfig()), SyntheticWeights.TinyConfig(), format);
}
