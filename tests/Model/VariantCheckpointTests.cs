using OptNeurons.Loading;
using OptNeurons.Tests.Support;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Model;

/// <summary>Every variant, written by the tests in every HF layout and storage dtype, loads strictly into the same model.</summary>
public class VariantCheckpointTests
{
    public static TheoryData<string> Variants => VariantTests.Variants;

    [Theory, MemberData(nameof(Variants))]
    public void AllLayouts_LoadToIdenticalLogits(string variant)
    {
        var config = VariantTests.Variant(variant);
        var weights = SyntheticWeights.Create(config, seed: 5);
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        var ids = tensor(new long[] { 2, 17, 33, 5, 71, 9, 1, 1, 2, 40, 41, 42, 43, 44, 45, 46 }).reshape(2, 8);
        var mask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1 }).reshape(2, 8);

        Tensor? reference = null;
        foreach (var (format, bareKeys) in new[] { (CheckpointFormat.SafeTensors, false), (CheckpointFormat.SafeTensorsSharded, false),
                                                   (CheckpointFormat.Bin, true), (CheckpointFormat.BinSharded, false) })
        {
            var path = CheckpointWriter.Write(dir.Sub($"{format}-{bareKeys}"), weights, config, format, modelPrefix: !bareKeys, shards: 3);
            using var model = Pretrained.Load(path, "cpu", "float32");
            using var _ = inference_mode();
            var logits = model.call(ids, mask);
            Assert.False(logits.isnan().any().item<bool>(), $"{variant} {format}: NaN");
            if (reference is null) reference = logits;
            else Assert.True(reference.eq(logits).all().item<bool>(), $"{variant}: {format} (bare keys: {bareKeys}) gives other logits");
        }
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void HalfPrecisionStorage_IsUpcastOnCpu_AndMatchesRoundedWeights(ScalarType storage)
    {
        var config = VariantTests.Variant("post-ln+projections");
        var weights = SyntheticWeights.Create(config, seed: 6);
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        var half = CheckpointWriter.Write(dir.Sub("half"), weights, config, CheckpointFormat.SafeTensors, storage);
        var rounded = CheckpointWriter.Write(dir.Sub("rounded"), weights.ToDictionary(kv => kv.Key, kv => kv.Value.to(storage).to(ScalarType.Float32)), config);
        using var fromHalf = Pretrained.Load(half, "cpu", "auto");           // auto on CPU: float32 compute
        using var fromRounded = Pretrained.Load(rounded, "cpu", "float32");
        Assert.Equal(ScalarType.Float32, fromHalf.state_dict()["model.decoder.layers.0.fc1.weight"].dtype);
        var ids = tensor(new long[] { 2, 17, 33, 5 }).reshape(1, 4);
        var mask = ones(1, 4, ScalarType.Int64);
        Assert.True(fromHalf.call(ids, mask).eq(fromRounded.call(ids, mask)).all().item<bool>());
    }

    [Fact]
    public void Bfloat16Compute_StaysCloseToFloat32()
    {
        var config = VariantTests.Variant("pre-ln");
        var weights = SyntheticWeights.Create(config, seed: 8);
        using var dir = new TempDirectory();
        using var scope = NewDisposeScope();
        var path = CheckpointWriter.Write(dir.Sub("m"), weights, config);
        using var fp32 = Pretrained.Load(path, "cpu", "float32");
        using var bf16 = Pretrained.Load(path, "cpu", "bfloat16");
        var ids = tensor(new long[] { 2, 17, 33, 5, 1, 1 }).reshape(1, 6);
        var mask = tensor(new long[] { 1, 1, 1, 1, 0, 0 }).reshape(1, 6);
        var a = fp32.call(ids, mask)[0, ..4];
        var b = bf16.call(ids, mask)[0, ..4].to(ScalarType.Float32);
        Assert.False(b.isnan().any().item<bool>());
        double relative = ((a - b).norm() / a.norm()).item<float>();
        Assert.True(relative < 0.05, $"bf16 logits differ from fp32 by {relative:P1}");
    }
}
