using OptNeurons.Model;
using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Model;

/// <summary>The model's lookup tables behave as TorchSharp's nn.Embedding, and building a model draws no random values.</summary>
public class EmbeddingTableTests
{
    const long Rows = 11, Dimension = 5, Pad = 1;

    [Fact]
    public void Lookup_AndGradient_EqualNnEmbedding_WithThePaddingRowLeftOut()
    {
        TorchRuntime.Initialize();
        using var generator = new Generator(3);
        using var values = randn([Rows, Dimension], generator: generator);
        using var reference = nn.Embedding(Rows, Dimension, padding_idx: Pad);
        using var table = new EmbeddingTable(Rows, Dimension, Pad);
        using (no_grad()) { reference.weight!.copy_(values); table.weight.copy_(values); }
        using var ids = tensor(new long[,] { { 2, 1, 7, 7 }, { 1, 0, 10, 2 } });   // the pad id twice, repeated ids
        using var upstream = randn([2, 4, Dimension], generator: generator);

        using var expected = reference.call(ids);
        using var actual = table.call(ids);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(actual.allclose(expected, rtol: 0, atol: 0), "lookups differ from nn.Embedding's");

        (expected * upstream).sum().backward();
        (actual * upstream).sum().backward();
        using var expectedGrad = reference.weight!.grad!;
        using var actualGrad = table.weight.grad!;
        Assert.True(actualGrad.allclose(expectedGrad, rtol: 0, atol: 1e-6), "gradients differ from nn.Embedding's");
        Assert.Equal(0.0, actualGrad[Pad].abs().sum().item<float>());             // looked up twice, never updated
        Assert.NotEqual(0.0, actualGrad[7].abs().sum().item<float>());             // a real row gets both its lookups' gradient
    }

    [Fact]
    public void MovedTable_LooksUpInItsNewDtype()
    {
        TorchRuntime.Initialize();
        using var table = new EmbeddingTable(Rows, Dimension, Pad);
        using (no_grad()) table.weight.copy_(arange(Rows * Dimension, dtype: ScalarType.Float32).view(Rows, Dimension));
        table.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, table.weight.dtype);
        Assert.Same(table.weight, Assert.Single(table.parameters()));
        using var row = table.call(tensor(new long[] { 3 }));
        Assert.Equal(ScalarType.Float64, row.dtype);
        Assert.Equal(15.0 + 16 + 17 + 18 + 19, row.sum().item<double>());
    }

    [Fact]
    public void PaddingIdx_OutsideTheTable_IsRefusedWithItsRange()
    {
        TorchRuntime.Initialize();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new EmbeddingTable(Rows, Dimension, paddingIdx: Rows));
        Assert.Contains("0..10", error.Message);
    }

    /// <summary>
    /// Building allocates weights without drawing them (a 1.3b shape took 26 s to build on 2 cores with the draws): the
    /// global generator is where it was, and LayerNorms still start at 1 and 0 as in HF.
    /// </summary>
    [Fact]
    public void BuildingAModel_DrawsNoRandomValues()
    {
        TorchRuntime.Initialize();
        var config = VariantTests.Variant("post-ln+projections");
        random.manual_seed(5);
        using var expected = rand(8);
        random.manual_seed(5);
        using var model = new OptForCausalLM(config);
        using var actual = rand(8);
        Assert.True(actual.allclose(expected, rtol: 0, atol: 0), "building the model consumed random numbers");

        var layerNorm = model.Decoder.Layers[0].named_modules().Single(m => m.name == "final_layer_norm").module;
        var parameters = layerNorm.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(config.HiddenSize, parameters["weight"].sum().item<float>());
        Assert.Equal(0f, parameters["bias"].abs().sum().item<float>());
    }
}
