using Microsoft.Data.Analysis;
using OptNeurons.Model;
using OptNeurons.Stats;
using static TorchSharp.torch;

namespace OptNeurons.Findings;

/// <summary>How far our logits are from the reference's, over the tokens whose attention mask is 1.</summary>
/// <param name="MaxAbsDiff">max |ours − reference| over every logit of every real token.</param>
/// <param name="Tokens">Real (unpadded) tokens compared.</param>
/// <param name="Values">Logits compared: Tokens × vocabulary size.</param>
public sealed record LogitsComparison(double MaxAbsDiff, long Tokens, long Values);

/// <summary>One reference fixture checked: what its checkpoint exercises, and how close our numbers come.</summary>
/// <param name="Fixture">The fixture folder's name.</param>
/// <param name="Arrangement">The switches its config sets (<see cref="ReferenceCheck.Arrangement"/>).</param>
/// <param name="Shape">Its sizes (<see cref="ReferenceCheck.Shape"/>).</param>
/// <param name="Storage">The weights' stored dtype.</param>
/// <param name="MaxLogitDiff">max |ours − reference| over the logits of the real tokens of its batch.</param>
/// <param name="Neurons">Neurons counted (layers × ffn).</param>
/// <param name="CountsDiffering">Neurons whose active-token count differs from the reference's: 0 when we agree.</param>
public sealed record FixtureAgreement(string Fixture, string Arrangement, string Shape, string Storage, double MaxLogitDiff, int Neurons, int CountsDiffering);

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

    /// <summary>The fixture's neurons whose active-token count in <paramref name="stats"/> differs (all of a layer not captured).</summary>
    public static int CountsDiffering(NeuronStats stats, ReferenceFixture fixture)
    {
        int differing = 0;
        for (int l = 0; l < fixture.ActiveCounts.Count; l++)
        {
            var expected = fixture.ActiveCounts[l];
            if (!stats.Layers.Contains(l) || stats.FfnDim != expected.Length) { differing += expected.Length; continue; }
            var ours = stats.ActiveCounts(l);
            for (int n = 0; n < expected.Length; n++) if (ours[n] != expected[n]) differing++;
        }
        return differing;
    }

    /// <summary>What a config switches away from the 125m arrangement, e.g. "post-LN, project_in/out" for 350m's.</summary>
    public static string Arrangement(OptConfig config)
    {
        var parts = new List<string> { config.DoLayerNormBefore ? "pre-LN" : "post-LN" };
        if (config.HasProjections) parts.Add("project_in/out");
        if (config.DoLayerNormBefore && !config.HasFinalLayerNorm) parts.Add("no final LayerNorm");
        if (!config.EnableBias) parts.Add("no biases");
        if (!config.LayerNormElementwiseAffine) parts.Add("no LayerNorm weights");
        if (!config.TieWordEmbeddings) parts.Add("untied head");
        return string.Join(", ", parts);
    }

    /// <summary>A config's sizes, e.g. "12 layers, d 768 (12 heads), ffn 3072, vocab 50272" for 125m.</summary>
    public static string Shape(OptConfig config) =>
        $"{config.NumHiddenLayers} layer{(config.NumHiddenLayers == 1 ? "" : "s")}, d {config.HiddenSize} ({config.NumAttentionHeads} " +
        $"head{(config.NumAttentionHeads == 1 ? "" : "s")}), ffn {config.FfnDim}, vocab {config.VocabSize}" +
        (config.HasProjections ? $", embeddings {config.WordEmbedProjDim}" : "");

    /// <summary>One row per fixture, for notebooks.</summary>
    public static DataFrame Table(IReadOnlyList<FixtureAgreement> rows) => new(
        new StringDataFrameColumn("fixture", rows.Select(r => r.Fixture)),
        new StringDataFrameColumn("arrangement", rows.Select(r => r.Arrangement)),
        new StringDataFrameColumn("shape", rows.Select(r => r.Shape)),
        new StringDataFrameColumn("stored as", rows.Select(r => r.Storage)),
        new DoubleDataFrameColumn("max |logit diff|", rows.Select(r => r.MaxLogitDiff)),
        new Int32DataFrameColumn("neurons", rows.Select(r => r.Neurons)),
        new Int32DataFrameColumn("counts differing", rows.Select(r => r.CountsDiffering)));

    static Tensor Rows(long[][] rows) => tensor(rows.SelectMany(r => r).ToArray()).reshape(rows.Length, rows[0].Length);
}
