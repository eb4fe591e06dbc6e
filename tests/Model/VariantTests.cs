using OptNeurons.Model;
using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Model;

/// <summary>Invariants every OPT variant must keep: padding on either side changes nothing, and no token sees the future.</summary>
public class VariantTests
{
    static readonly OptConfig Tiny = new()
    {
        VocabSize = 96, HiddenSize = 16, FfnDim = 32, NumAttentionHeads = 2, NumHiddenLayers = 2, MaxPositionEmbeddings = 24,
    };

    public static TheoryData<string> Variants => ["pre-ln", "post-ln+projections", "no-bias", "no-ln-affine", "fine-tuned-no-final-ln", "no-positions"];

    internal static OptConfig Variant(string name) => name switch
    {
        "pre-ln" => Tiny,
        "post-ln+projections" => Tiny with { DoLayerNormBefore = false, WordEmbedProjDimRaw = 8 },   // the 350m arrangement
        "no-bias" => Tiny with { EnableBias = false },
        "no-ln-affine" => Tiny with { LayerNormElementwiseAffine = false },
        "fine-tuned-no-final-ln" => Tiny with { RemoveFinalLayerNorm = true },
        "no-positions" => Tiny with { PositionEmbeddingType = "none" },   // the paper's NoPos model
        _ => throw new ArgumentException(name),
    };

    /// <summary>A seeded model whose every parameter (LayerNorms included) is random, so no term hides behind a 0 or a 1.</summary>
    internal static OptForCausalLM RandomModel(OptConfig config, long seed = 7)
    {
        TorchRuntime.Initialize();
        random.manual_seed(seed);
        var model = new OptForCausalLM(config);
        using (no_grad()) foreach (var (_, p) in model.named_parameters()) p.normal_(0, 0.5);
        return model;
    }

    [Theory, MemberData(nameof(Variants))]
    public void Logits_DoNotDependOnPaddingSide(string variant)
    {
        using var model = RandomModel(Variant(variant));
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        long[] seq = [2, 17, 33, 5, 71, 9];
        var alone = model.call(tensor(seq).unsqueeze(0), ones(1, seq.Length, ScalarType.Int64));
        var ids = tensor(new long[] { 2, 17, 33, 5, 71, 9, 1, 1, 1, 1, 2, 17, 33, 5, 71, 9 }).reshape(2, 8);   // right- and left-padded
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1 }).reshape(2, 8);
        var batch = model.call(ids, mask);
        Assert.True(alone[0].allclose(batch[0, ..6], rtol: 0, atol: 1e-5), $"{variant}: right padding changed the logits");
        Assert.True(alone[0].allclose(batch[1, 2..], rtol: 0, atol: 1e-5), $"{variant}: left padding changed the logits");
        Assert.False(batch.isnan().any().item<bool>(), $"{variant}: NaN in the output (pad rows included)");
    }

    /// <summary>
    /// A batch without padding runs attention's causal kernel with no mask; one pad column puts the same tokens through
    /// the masked kernel. On the CPU the two must agree to the bit, or padding would change the statistics.
    /// </summary>
    [Theory, MemberData(nameof(Variants))]
    public void UnpaddedBatch_GivesTheBitsOfTheMaskedPath(string variant)
    {
        using var model = RandomModel(Variant(variant));
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var ids = tensor(new long[] { 2, 17, 33, 5, 71, 9, 2, 40, 41, 42, 43, 44 }).reshape(2, 6);
        Assert.Null(OptDecoder.LayerMask(ones(2, 6, ScalarType.Int64), CPU));
        var causal = model.call(ids, ones(2, 6, ScalarType.Int64));
        var masked = model.call(cat([ids, ones(2, 1, ScalarType.Int64)], 1), cat([ones(2, 6, ScalarType.Int64), zeros(2, 1, ScalarType.Int64)], 1));
        Assert.True(causal.equal(masked[.., ..6]).all().item<bool>(), $"{variant}: the causal kernel's logits differ from the masked kernel's");
    }

    /// <summary>The same at the kernel, over lengths that span several of its key blocks, in both compute dtypes.</summary>
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void CausalKernel_EqualsTheMaskedKernel_OverManyBlocks(ScalarType dtype)
    {
        TorchRuntime.Initialize();
        using var scope = NewDisposeScope();
        using var generator = new Generator(11);
        var (q, k, v) = (randn([2, 3, 1100, 16], generator: generator).to(dtype), randn([2, 3, 1100, 16], generator: generator).to(dtype), randn([2, 3, 1100, 16], generator: generator).to(dtype));
        var mask = OptDecoder.AdditiveMask(ones(2, 1100, ScalarType.Int64), CPU).clamp_min(dtype == ScalarType.BFloat16 ? -3.3895313892515355e38 : float.MinValue).to(dtype);
        var masked = nn.functional.scaled_dot_product_attention(q, k, v, mask, 0.0, false);
        var causal = nn.functional.scaled_dot_product_attention(q, k, v, null, 0.0, true);
        Assert.True(causal.equal(masked).all().item<bool>(), $"{dtype}: the causal kernel differs from the masked one");
    }

    [Theory, MemberData(nameof(Variants))]
    public void Logits_AreCausal(string variant)
    {
        using var model = RandomModel(Variant(variant));
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var ids = tensor(new long[] { 2, 40, 41, 42, 43, 44, 2, 40, 41, 42, 90, 91 }).reshape(2, 6);   // differ from position 4 on
        var logits = model.call(ids, ones(2, 6, ScalarType.Int64));
        Assert.True(logits[0, ..4].allclose(logits[1, ..4], rtol: 0, atol: 1e-6), $"{variant}: a later token changed earlier logits");
        Assert.False(logits[0, 4].allclose(logits[1, 4], rtol: 0, atol: 1e-3), $"{variant}: the changed token had no effect");
    }

    [Fact]
    public void Dropout_ActsInTrainingModeOnly()
    {
        using var model = RandomModel(Tiny with { Dropout = 0.5 });
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 2, 40, 41, 42 }).reshape(1, 4);
        var mask = ones(1, 4, ScalarType.Int64);
        Assert.True(model.call(ids, mask).allclose(model.call(ids, mask), rtol: 0, atol: 0), "eval mode must be deterministic");
        model.train();
        Assert.False(model.call(ids, mask).allclose(model.call(ids, mask)), "training mode must drop");
        model.eval();
    }

    [Fact]
    public void NoBias_AndNoLayerNormAffine_HaveNoSuchParameters()
    {
        using var noBias = RandomModel(Variant("no-bias"));
        Assert.DoesNotContain(noBias.state_dict().Keys, k => k.EndsWith(".bias") && !k.Contains("layer_norm"));
        using var noAffine = RandomModel(Variant("no-ln-affine"));
        Assert.DoesNotContain(noAffine.state_dict().Keys, k => k.Contains("layer_norm"));
        using var noPos = RandomModel(Variant("no-positions"));
        Assert.DoesNotContain(noPos.state_dict().Keys, k => k.Contains("embed_positions"));
        using var postLn = RandomModel(Variant("post-ln+projections"));
        var keys = postLn.state_dict().Keys.ToHashSet();
        Assert.Contains("model.decoder.project_in.weight", keys);
        Assert.DoesNotContain("model.decoder.final_layer_norm.weight", keys);
    }
}
