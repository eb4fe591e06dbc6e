using OptNeurons.Loading;
using OptNeurons.Tests.Support;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Loading;

/// <summary>Bad weight files fail at Open (or Read) with a message naming the file and the offending key or value.</summary>
public sealed class WeightFileErrorTests : ErrorTestBase
{
    [Fact]
    public void TruncatedSafeTensorsHeader()
    {
        var directory = Folder("truncated");
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), (RawSafeTensors("{}", 0, declaredLength: 1000)));
        Fails<InvalidDataException>(directory, Path.Combine(directory, "model.safetensors"), "truncated safetensors header", "declares 1000");
    }

    [Fact]
    public void SafeTensorsOffsetsPastTheEnd()
    {
        var directory = Folder("pastend");
        var header = """{"decoder.embed_tokens.weight":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""";
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), (RawSafeTensors(header, 8)));
        Fails<InvalidDataException>(directory, "model.safetensors", "'decoder.embed_tokens.weight'", "past the end of the file");
    }

    [Fact]
    public void SafeTensorsWithOverlappingTensors()
    {
        var directory = Folder("overlap");
        var header = """{"model.decoder.embed_tokens.weight":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"model.decoder.embed_positions.weight":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""";
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), (RawSafeTensors(header, 16)));
        Fails<InvalidDataException>(directory, "model.safetensors", "'model.decoder.embed_tokens.weight' and 'model.decoder.embed_positions.weight' overlap");
    }

    [Fact]
    public void SafeTensorsNamingATensorTwice()
    {
        var directory = Folder("twice");
        var header = """{"model.decoder.embed_tokens.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"model.decoder.embed_tokens.weight":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""";
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), (RawSafeTensors(header, 8)));
        Fails<InvalidDataException>(directory, "model.safetensors", "names a tensor twice", "model.decoder.embed_tokens.weight");
    }

    [Fact]
    public void UnknownSafeTensorsDtype()
    {
        var directory = Folder("dtype");
        var header = """{"model.decoder.embed_tokens.weight":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}""";
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), (RawSafeTensors(header, 4)));
        Fails<InvalidDataException>(directory, "model.safetensors", "'model.decoder.embed_tokens.weight'", "unknown dtype 'F8_E4M3'");
    }

    [Theory]
    [InlineData("""{"model.decoder.embed_tokens.weight":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}""", 8, "'model.decoder.embed_tokens.weight' of dtype F32 and shape [4] needs 16 bytes, its data_offsets span 8")]
    [InlineData("""{"model.decoder.embed_tokens.weight":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", 8, "'model.decoder.embed_tokens.weight' has invalid data_offsets [8, 0]")]
    [InlineData("""{"model.decoder.embed_tokens.weight":{"dtype":"F32","shape":"x","data_offsets":[0,4]}}""", 4, "'model.decoder.embed_tokens.weight' has a malformed header entry")]
    [InlineData("""{"__metadata__":{"format":1}}""", 0, "__metadata__ must map names to strings")]
    [InlineData("""{"__metadata__":["pt"]}""", 0, "__metadata__ must map names to strings")]
    public void SafeTensorsHeaderEntries_AreCheckedOneByOne(string header, int dataBytes, string expected)
    {
        var directory = Folder("header");
        File.WriteAllBytes(Path.Combine(directory, "model.safetensors"), RawSafeTensors(header, dataBytes));
        Fails<InvalidDataException>(directory, "model.safetensors", expected);
    }

    [Fact]
    public void CorruptZipBin()
    {
        var directory = Folder("corruptzip");
        File.WriteAllBytes(Path.Combine(directory, "pytorch_model.bin"), [.. "PK\x03\x04"u8, .. new byte[200]]);
        Fails<InvalidDataException>(directory, Path.Combine(directory, "pytorch_model.bin"), "corrupt zip archive");
    }

    [Fact]
    public void CorruptPickleInsideTheZip()
    {
        var directory = Folder("corruptpickle");
        HandPickle.WriteRawPickle(Path.Combine(directory, "pytorch_model.bin"), [0x80, 0x02, 0xFF, 0x13, 0x37]);
        Fails<InvalidDataException>(directory, Path.Combine(directory, "pytorch_model.bin"), "could not unpickle archive/data.pkl");
    }

    [Theory]
    [InlineData("pytorch_model.bin")]
    [InlineData("model.safetensors")]
    public void GitLfsPointerInsteadOfWeights(string file)
    {
        var directory = Folder("lfs");
        File.WriteAllText(Path.Combine(directory, file), "version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 250540281\n");
        Fails<InvalidDataException>(directory, Path.Combine(directory, file), "Git LFS pointer");
    }

    [Fact]
    public void NotATorchSaveFile()
    {
        var directory = Folder("text");
        File.WriteAllText(Path.Combine(directory, "pytorch_model.bin"), "<html>404</html>");
        Fails<InvalidDataException>(directory, Path.Combine(directory, "pytorch_model.bin"), "not a torch.save file", "starts with bytes 3C68746D");
    }

    [Fact]
    public void LegacyTorchSaveBin_CutShort()
    {
        var directory = Folder("legacy");
        // torch.save's legacy format starts with a pickle of its magic number 0x1950a86a20f9469cfc6c; here nothing follows.
        File.WriteAllBytes(Path.Combine(directory, "pytorch_model.bin"), Convert.FromHexString("80028A0A6CFC9C46F9206AA850192E"));
        Fails<InvalidDataException>(directory, Path.Combine(directory, "pytorch_model.bin"), "could not unpickle the format version");
    }

    [Fact]
    public void ShardTruncatedAfterOpen_FailsOnRead_NamingFileAndKey()
    {
        var directory = Folder("shrunk");
        File.Copy(Path.Combine(FixtureDirectory, "model.safetensors"), Path.Combine(directory, "model.safetensors"));
        var checkpoint = Checkpoint.Open(directory);
        using (var file = File.OpenWrite(Path.Combine(directory, "model.safetensors"))) file.SetLength(10_000);
        var error = Assert.Throws<IOException>(() => checkpoint.Read("model.decoder.layers.2.fc2.weight", ScalarType.Float32, CPU));
        Assert.Contains("model.safetensors: reading tensor 'model.decoder.layers.2.fc2.weight' failed", error.Message);
    }
}
