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
/// <param name="ComputedIn">The dtype the reference computed in (ours is float32).</param>
/// <param name="MaxLogitDiff">max |ours − reference| over the logits of the real tokens of its batch.</param>
/// <param name="LogitTolerance">How far they may lie apart (<see cref="ReferenceFixture.Tolerance"/>).</param>
/// <param name="Neurons">Neurons counted (layers × ffn).</param>
/// <param name="CountsDiffering">Neurons whose active-token count differs from the reference's.</param>
/// <param name="CountsMoved">Σ |ours − reference| over those counts.</param>
/// <param name="CountsMovedAllowed">How much they may move (<see cref="ReferenceFixture.CountsMovedAllowed"/>): 0 for a float32 reference.</param>
public sealed record FixtureAgreement(string Fixture, string Arrangement, string Shape, string Storage, string ComputedIn,
    double MaxLogitDiff, double LogitTolerance, int Neurons, int CountsDiffering, long CountsMoved, long CountsMovedAllowed)
{
    /// <summary>Whether our numbers are the reference's, up to what its compute dtype allows.</summary>
    public bool Agrees => MaxLogitDiff <= LogitTolerance && CountsMoved <= CountsMovedAllowed;
}

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

    /// <summary>
    /// Checks <paramref name="model"/> (float32) against <paramref name="fixture"/>: its logits on the reference batch, and
    /// <paramref name="counted"/>, the model's counts on the fixture's stats sequences.
    /// </summary>
    public static FixtureAgreement Agreement(OptForCausalLM model, ReferenceFixture fixture, NeuronStats counted) => new(
        fixture.Name, Arrangement(model.Config), Shape(model.Config), model.Config.StorageDtype, fixture.ComputeDtype,
        Logits(model, fixture).MaxAbsDiff, fixture.Tolerance(fixture.Logits), counted.Layers.Count * counted.FfnDim,
        CountsDiffering(counted, fixture), CountsMoved(counted, fixture), fixture.CountsMovedAllowed);

    /// <summary>The fixture's neurons whose active-token count in <paramref name="stats"/> differs (all of a layer not captured).</summary>
    public static int CountsDiffering(NeuronStats stats, ReferenceFixture fixture) =>
        PerNeuron(stats, fixture).Count(n => n.Ours != n.Expected);

    /// <summary>Σ over the fixture's neurons of |our active-token count − the reference's| (a layer not captured counts 0s).</summary>
    public static long CountsMoved(NeuronStats stats, ReferenceFixture fixture) =>
        PerNeuron(stats, fixture).Sum(n => Math.Abs((n.Ours ?? 0) - n.Expected));

    /// <summary>Per neuron of the fixture, layer by layer: our count (null where its layer was not captured) and the reference's.</summary>
    static IEnumerable<(long? Ours, long Expected)> PerNeuron(NeuronStats stats, ReferenceFixture fixture)
    {
        for (int l = 0; l < fixture.ActiveCounts.Count; l++)
        {
            var expected = fixture.ActiveCounts[l];
            long[]? ours = stats.Layers.Contains(l) && stats.FfnDim == expected.Length ? stats.ActiveCounts(l).ToArray() : null;
            for (int n = 0; n < expected.Length; n++) yield return (ours?[n], expected[n]);
        }
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
        new StringDataFrameColumn("reference computed in", rows.Select(r => r.ComputedIn)),
        new DoubleDataFrameColumn("max |logit diff|", rows.Select(r => r.MaxLogitDiff)),
        new DoubleDataFrameColumn("logit tolerance", rows.Select(r => r.LogitTolerance)),
        new Int32DataFrameColumn("neurons", rows.Select(r => r.Neurons)),
        new Int32DataFrameColumn("counts differing", rows.Select(r => r.CountsDiffering)),
        new Int64DataFrameColumn("Σ |count diff|", rows.Select(r => r.CountsMoved)),
        new Int64DataFrameColumn("Σ |count diff| allowed", rows.Select(r => r.CountsMovedAllowed)));

    static Tensor Rows(long[][] rows) => tensor(rows.SelectMany(r => r).ToArray()).reshape(rows.Length, rows[0].Length);
}
