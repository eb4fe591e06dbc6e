using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Runtime;

/// <summary>Tensor bytes go to and from streams exactly as TorchSharp's own (slower) stream methods move them.</summary>
public class TensorBytesTests
{
    [Theory]
    [InlineData(ScalarType.Float32, 1L << 30)]   // one piece
    [InlineData(ScalarType.Float32, 12)]          // pieces of 3 elements, the last one short
    [InlineData(ScalarType.BFloat16, 6)]
    [InlineData(ScalarType.Int64, 1)]             // smaller than an element: one element per piece
    public void WrittenBytes_EqualTorchSharps_AndReadBack(ScalarType dtype, long pieceBytes)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var tensor = (randn([5, 7], generator: new Generator(4)) * 100).to(dtype);
        using var expected = new MemoryStream();
        tensor.WriteBytesToStream(expected);
        using var written = new MemoryStream();
        TensorBytes.Write(tensor, written, pieceBytes);
        Assert.Equal(expected.ToArray(), written.ToArray());

        var back = empty([5, 7], dtype);
        written.Position = 0;
        TensorBytes.Read(back, written, pieceBytes);
        Assert.True(back.equal(tensor).all().item<bool>());
        Assert.Equal(written.Length, written.Position);
    }

    [Fact]
    public void ShortStream_AndNonContiguousTensor_AreRefused()
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        var tensor = empty([4, 4], ScalarType.Float32);
        Assert.Throws<EndOfStreamException>(() => TensorBytes.Read(tensor, new MemoryStream(new byte[63]), 16));
        var error = Assert.Throws<ArgumentException>(() => TensorBytes.Write(tensor.t(), new MemoryStream()));
        Assert.Contains("non-contiguous", error.Message);
    }
}
