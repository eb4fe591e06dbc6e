using OptNeurons.Model;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Model;

/// <summary>Inputs the model cannot take are refused before any native call, naming the value and the limit.</summary>
public class BadInputTests
{
    [Fact]
    public void TokenIdOutsideTheVocabulary_IsRefused()
    {
        using var model = VariantTests.RandomModel(VariantTests.Variant("pre-ln"));
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => model.call(tensor(new long[] { 2, 96 }).reshape(1, 2), ones(1, 2, ScalarType.Int64)));
        Assert.Contains("token id 96", e.Message);
        Assert.Contains("vocab_size 96", e.Message);
    }

    [Fact]
    public void SequenceLongerThanMaxPositions_IsRefused_EvenPastInt8()
    {
        var config = VariantTests.Variant("pre-ln") with { MaxPositionEmbeddings = 200 };
        using var model = VariantTests.RandomModel(config);
        using var scope = NewDisposeScope();
        var ids = full(1, 201, 5L);
        var e = Assert.Throws<ArgumentException>(() => model.call(ids, ones(1, 201, ScalarType.Int64)));
        Assert.Contains("201 tokens, more than max_position_embeddings = 200", e.Message);
        // Padding does not count: 200 real tokens in a 260-wide row are fine.
        var mask = cat([ones(1, 200, ScalarType.Int64), zeros(1, 60, ScalarType.Int64)], 1);
        Assert.Equal(new long[] { 1, 260, 96 }, model.call(full(1, 260, 5L), mask).shape);
    }

    [Fact]
    public void MaskOfAnotherShape_IsRefused()
    {
        using var model = VariantTests.RandomModel(VariantTests.Variant("pre-ln"));
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => model.call(full(2, 4, 5L), ones(2, 3, ScalarType.Int64)));
        Assert.Contains("attention_mask shape [2, 3] differs from input_ids shape [2, 4]", e.Message);
    }
}
