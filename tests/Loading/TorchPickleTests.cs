using OptNeurons.Loading;
using OptNeurons.Tests.Support;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Loading;

/// <summary>
/// The torch.save reader on hand-built files in both formats (views, shared storages, short storages, byte orders), on
/// files PyTorch wrote in the legacy format, and PyBridge still working beside it.
/// </summary>
public sealed class TorchPickleTests : IDisposable
{
    readonly TempDirectory temp = new();
    static readonly float[] Storage = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();

    public TorchPickleTests() => OptNeurons.Runtime.TorchRuntime.Initialize();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ViewsWithOffsetsAndStrides_ReadAsTheViewsTheyAre(bool legacy)
    {
        var path = temp.Sub("views.bin");
        HandPickle.Write(path, Storage, [
            new("transposed", 2, [2, 3], [1, 2]),   // element [i, j] is storage[2 + i + 2j]
            new("tail", 8, [4], [1]),
            new("whole", 0, [3, 4], [4, 1]),
        ], legacy: legacy);
        var index = TorchPickle.ReadIndex(path);
        Assert.Equal(["tail", "transposed", "whole"], index.Keys.Order());
        Assert.Equal(legacy ? "0" : "archive/data/0", index["tail"].StorageEntry);
        Assert.Equal(legacy ? new FileInfo(path).Length - 48 : -1, index["tail"].LegacyDataOffset);   // the storage ends the file
        using var transposed = TorchPickle.Read(index["transposed"]);
        using var tail = TorchPickle.Read(index["tail"]);
        using var whole = TorchPickle.Read(index["whole"]);
        Assert.Equal([2f, 4, 6, 3, 5, 7], transposed.data<float>().ToArray());
        Assert.Equal([2L, 3], transposed.shape);
        Assert.Equal([8f, 9, 10, 11], tail.data<float>().ToArray());
        Assert.Equal(Storage, whole.data<float>().ToArray());
    }

    [Fact]
    public void ShortStorage_IsReportedAtOpen_WithFileAndKey()
    {
        var path = temp.Sub("short.bin");
        HandPickle.Write(path, Storage[..10], [new("tail", 8, [4], [1])], storageElements: 12);
        var error = Assert.Throws<InvalidDataException>(() => TorchPickle.ReadIndex(path));
        Assert.Contains("short.bin", error.Message);
        Assert.Contains("'tail'", error.Message);
        Assert.Contains("needs 48 bytes", error.Message);
        Assert.Contains("holds 40", error.Message);
    }

    [Fact]
    public void ShortLegacyStorage_IsReportedAtOpen_WithTheSizes()
    {
        var path = temp.Sub("short-legacy.bin");
        HandPickle.Write(path, Storage[..10], [new("tail", 8, [4], [1])], storageElements: 12, legacy: true);
        var error = Assert.Throws<InvalidDataException>(() => TorchPickle.ReadIndex(path));
        Assert.Equal($"{path}: its storages need {new FileInfo(path).Length + 8} bytes, but the file holds {new FileInfo(path).Length}; the file is truncated.",
                     error.Message);
    }

    [Fact]
    public void LegacyFilesFromABigEndianMachine_AreRefused()
    {
        var path = temp.Sub("big-legacy.bin");
        HandPickle.Write(path, Storage, [new("tail", 8, [4], [1])], byteorder: "big", legacy: true);
        var error = Assert.Throws<NotSupportedException>(() => TorchPickle.ReadIndex(path));
        Assert.Equal($"{path}: tensors were saved on a big-endian machine; only little-endian files are supported.", error.Message);
    }

    [Fact]
    public void LegacyShardsWrittenByPyTorch_HoldTheSafetensorsShardsValues_BitForBit()
    {
        // opt-tiny-deep-narrow: the same weights as sharded safetensors and, from make_variants.py, as sharded legacy .bin.
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "opt-tiny-deep-narrow");
        using var legacyDir = Fixtures.WithLayout(fixture, "pytorch_model.bin.index.json");
        using var safeDir = Fixtures.WithLayout(fixture, "model.safetensors.index.json");
        var (legacy, safe) = (Checkpoint.Open(legacyDir.Path), Checkpoint.Open(safeDir.Path));
        Assert.Equal("bin-sharded", legacy.Layout);
        Assert.All(legacy.Files, f => Assert.All(TorchPickle.ReadIndex(f).Values, e => Assert.True(e.LegacyDataOffset > 0)));
        Assert.Equal(safe.Tensors.Keys.Order(), legacy.Tensors.Keys.Order());
        foreach (var name in safe.Tensors.Keys)
        {
            using var scope = NewDisposeScope();
            FixtureLayoutTests.AssertBitEqual(safe.Read(name, ScalarType.Float32, CPU), legacy.Read(name, ScalarType.Float32, CPU), name);
        }
    }

    [Fact]
    public void BigEndianFiles_AreRefused()
    {
        var path = temp.Sub("big.bin");
        HandPickle.Write(path, Storage, [new("tail", 8, [4], [1])], byteorder: "big");
        var error = Assert.Throws<NotSupportedException>(() => TorchPickle.ReadIndex(path));
        Assert.Contains("byteorder 'big'", error.Message);
        Assert.Contains("big.bin", error.Message);
    }

    [Fact]
    public void PyBridgeUnpickler_StillWorks_AfterOurReaderRegisteredItsConstructors()
    {
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "opt-tiny-pre-ln", "pytorch_model.bin");
        var ours = TorchPickle.ReadIndex(fixture);
        using var embed = TorchPickle.Read(ours["model.decoder.embed_tokens.weight"]);
        var theirs = PyTorchUnpickler.UnpickleStateDict(fixture);
        Assert.Equal(ours.Count, theirs.Count);
        using var theirEmbed = (Tensor)theirs["model.decoder.embed_tokens.weight"]!;
        FixtureLayoutTests.AssertBitEqual(embed, theirEmbed, "embed_tokens");
        foreach (var t in theirs.Values) ((Tensor)t).Dispose();
    }
}
