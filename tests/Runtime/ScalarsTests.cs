using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Runtime;

/// <summary>The held Scalars: their values, and a scope that makes each value once and frees them all at its end.</summary>
public class ScalarsTests
{
    [Fact]
    public void HeldScalars_AreInt64_WithTheirValues_AndServeAsAlpha()
    {
        Assert.Equal((1L, 0L, -1L), (Scalars.One.ToInt64(), Scalars.Zero.ToInt64(), Scalars.MinusOne.ToInt64()));
        Assert.Equal(ScalarType.Int64, Scalars.One.Type);
        using var counts = zeros(3, ScalarType.Int64);
        counts.add_(tensor(new long[] { 1, 2, 3 }), Scalars.One);   // an integral alpha, as int64 accumulators need
        Assert.Equal([1L, 2, 3], counts.data<long>().ToArray());
        using var floats = ones(2);
        Assert.Equal([2f, 2f], floats.add(ones(2), Scalars.One).data<float>().ToArray());   // and float tensors accept it
    }

    [Fact]
    public void ScalarScope_MakesEachValueOnce_AndFreesThemWhenDisposed()
    {
        Scalar five;
        using (var scope = new ScalarScope())
        {
            five = scope[5];
            Assert.Same(five, scope[5]);
            Assert.NotSame(five, scope[6]);
            Assert.Equal(5L, five.ToInt64());
        }
        Assert.Throws<InvalidOperationException>(() => five.Type);   // its native value is gone
    }
}
