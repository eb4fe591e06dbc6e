using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Tests.Support;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Model;

/// <summary>
/// Logits and neuron activations against the independent reference, compared where attention_mask == 1: every fixture
/// (pre- and post-LN, projections, no biases, untied head, half-precision storage), from every weight layout it holds,
/// within the tolerance of the reference's compute dtype (<see cref="ReferenceFixture.Tolerance"/>: 1e-4 for float32).
/// </summary>
public class ReferenceTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Cases => Fixtures.NamesAndLayouts;

    /// <summary>opt-tiny-pre-ln loaded from its model.safetensors only.</summary>
    internal static OptForCausalLM LoadFixtureModel() => LoadFixtureModel(Fixtures.TinyPreLn, "model.safetensors");

    /// <summary>A fixture loaded from one of its weight layouts only, computing in float32.</summary>
    internal static OptForCausalLM LoadFixtureModel(string fixture, string layout)
    {
        using var dir = Fixtures.WithLayout(fixture, layout);
        return Pretrained.Load(dir.Path, "cpu", "float32");
    }

    [Theory, MemberData(nameof(Cases))]
    public void Logits_MatchReference_OnRealTokens(string fixture, string layout)
    {
        using var model = LoadFixtureModel(Fixtures.All[fixture], layout);
        var reference = Fixtures.Reference(fixture);
        var (ids, mask) = reference.Batch;
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var maskT = Fixtures.ToTensor(mask);
        var logits = model.call(Fixtures.ToTensor(ids), maskT);
        AssertCloseOnRealTokens(Fixtures.ToTensor(reference.Logits, reference.LogitsShape), logits, maskT, reference.Tolerance(reference.Logits), "logits");
    }

    [Theory, MemberData(nameof(Cases))]
    public void NeuronActivations_MatchReference_OnRealTokens(string fixture, string layout)
    {
        using var model = LoadFixtureModel(Fixtures.All[fixture], layout);
        var reference = Fixtures.Reference(fixture);
        var (ids, mask) = reference.Batch;
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var captured = new Tensor[model.NumLayers];
        // The clone is detached from every dispose scope of the forward pass, so it outlives it.
        var removers = model.Decoder.Layers.Select((layer, l) =>
            layer.NeuronActivations.register_forward_hook((_, _, post) => { captured[l] = post.clone().DetachFromDisposeScope(); return null!; })).ToList();
        var maskT = Fixtures.ToTensor(mask);
        model.call(Fixtures.ToTensor(ids), maskT);
        removers.ForEach(r => r.remove());
        var expected = Fixtures.ToTensor(reference.Activations, reference.ActivationsShape);
        Assert.Equal(expected.shape[0], model.NumLayers);
        double tolerance = reference.Tolerance(reference.Activations);
        for (int l = 0; l < model.NumLayers; l++)
            using (captured[l]) AssertCloseOnRealTokens(expected[l], captured[l], maskT, tolerance, $"layer {l} activations");
    }

    void AssertCloseOnRealTokens(Tensor expected, Tensor actual, Tensor mask, double tolerance, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        var real = mask.to(ScalarType.Bool);
        var diff = (expected[real] - actual[real]).abs();
        double max = diff.max().item<float>();
        output.WriteLine($"{what}: max |diff| {max:G3} (tolerance {tolerance:G3})");
        if (max > tolerance)
        {
            var worst = diff.argmax().item<long>();
            var e = expected[real].flatten(); var a = actual[real].flatten();
            output.WriteLine($"{what}: first values expected vs actual:");
            for (long i = worst; i < Math.Min(worst + 5, e.shape[0]); i++) output.WriteLine($"  [{i}] {e[i].item<float>():G9}  {a[i].item<float>():G9}");
        }
        Assert.True(max <= tolerance, $"{what}: max |diff| {max:G3} > {tolerance:G3} on real tokens");
    }
}
