using OptNeurons.Model;
using static TorchSharp.torch;

namespace OptNeurons.Findings;

/// <summary>How far our logits are from the reference's, over the tokens whose attention mask is 1.</summary>
/// <param name="MaxAbsDiff">max |ours − reference| over every logit of every real token.</param>
/// <param name="Tokens">Real (unpadded) tokens compared.</param>
/// <param name="Values">Logits compared: Tokens × vocabulary size.</param>
public sealed record LogitsComparison(double MaxAbsDiff, long Tokens, long Values);

/// <summary>Notebook 00's question: does our OPT compute what HuggingFace's does?</summary>
public static class ReferenceCheck
{
    /// <summary>Runs the reference batch through <paramref name="model"/> and compares its logits with the fixture's.</summary>
    public static LogitsComparison Logits(OptForCausalLM model, ReferenceFixture fixture)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var (ids, mask) = fixture.Batch;
        var device = model.Decoder.Device;
        var maskT = Rows(mask);
        var ours = model.call(Rows(ids).to(device), maskT.to(device)).to(ScalarType.Float32).cpu();   // [B, T, V]
        var expected = tensor(fixture.Logits).reshape(fixture.LogitsShape);
        if (!ours.shape.SequenceEqual(expected.shape))
            throw new InvalidOperationException($"The model gives logits of shape [{string.Join(", ", ours.shape)}], the reference [{string.Join(", ", expected.shape)}]: not the reference model.");
        var real = maskT.to(ScalarType.Bool);                                                       // pads are never compared
        var diff = (ours[real] - expected[real]).abs();                                             // [tokens, V]
        return new LogitsComparison(diff.max().item<float>(), diff.shape[0], diff.numel());
    }

    static Tensor Rows(long[][] rows) => tensor(rows.SelectMany(r => r).ToArray()).reshape(rows.Length, rows[0].Length);
}
