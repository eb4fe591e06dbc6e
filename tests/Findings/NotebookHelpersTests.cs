using Microsoft.Data.Analysis;
using OptNeurons.Capture;
using OptNeurons.Findings;
using OptNeurons.Plots;
using OptNeurons.Stats;
using OptNeurons.Tests.Model;
using OptNeurons.Tests.Support;
using OptNeurons.Workbook;

namespace OptNeurons.Tests.Findings;

/// <summary>The library calls notebook 00 makes, checked without a kernel.</summary>
public class NotebookHelpersTests
{
    [Fact]
    public void ReferenceCheck_OnTheFixture_IsWithinTolerance_OnRealTokensOnly()
    {
        using var model = ReferenceTests.LoadFixtureModel();
        var fixture = ReferenceFixture.Open(Fixtures.TinyPreLn);
        var check = ReferenceCheck.Logits(model, fixture);
        Assert.InRange(check.MaxAbsDiff, 0, 1e-4);
        long realTokens = fixture.Batch.Mask.Sum(row => row.Sum());
        Assert.Equal(realTokens, check.Tokens);
        Assert.Equal(realTokens * fixture.LogitsShape[2], check.Values);
    }

    [Fact]
    public void LayerSummary_ShowsTheDeadNeuronRows_WhichEqualTheReference()
    {
        using var model = ReferenceTests.LoadFixtureModel();
        var fixture = ReferenceFixture.Open(Fixtures.TinyPreLn);
        var stats = NeuronCapture.Run(model, fixture.StatsSequences, new CaptureSettings(), StatsSource.Unknown);
        var rows = DeadNeurons.PerLayer(new ModelStats("fixture", model.NumLayers, stats));
        Assert.Equal(fixture.DeadCounts, rows.Select(r => r.Dead));
        var table = LayerSummary.Table(rows);
        Assert.Equal(3, table.Rows.Count);
        Assert.Equal(fixture.DeadCounts[1], (int)table["dead"][1]!);
        Assert.Equal(100.0 * fixture.DeadCounts[1] / 128, (double)table["dead %"][1]!, 1e-12);
    }

    [Fact]
    public void CountsDifferingAndMoved_AreZeroOnTheReference_AndCountEveryNeuronOfAMissingLayerOrAChangedCount()
    {
        using var model = ReferenceTests.LoadFixtureModel();
        var fixture = ReferenceFixture.Open(Fixtures.TinyPreLn);
        Assert.Equal(0, ReferenceCheck.CountsDiffering(NeuronCapture.Run(model, fixture.StatsSequences, new CaptureSettings(), StatsSource.Unknown), fixture));
        var twoLayers = NeuronCapture.Run(model, fixture.StatsSequences, new CaptureSettings { LayerCount = 2 }, StatsSource.Unknown);
        Assert.Equal(128, ReferenceCheck.CountsDiffering(twoLayers, fixture));
        Assert.Equal(fixture.ActiveCounts[2].Sum(), ReferenceCheck.CountsMoved(twoLayers, fixture));   // the missing layer's counts, all moved to 0
        // One sequence fewer: exactly the neurons that fired on that sequence's tokens count differently, each by its count there.
        var fewer = NeuronCapture.Run(model, fixture.StatsSequences.Skip(1).ToList(), new CaptureSettings(), StatsSource.Unknown);
        var alone = NeuronCapture.Run(model, fixture.StatsSequences.Take(1).ToList(), new CaptureSettings(), StatsSource.Unknown);
        int firedOnFirst = Enumerable.Range(0, 3).Sum(l => alone.ActiveCounts(l).ToArray().Count(c => c > 0));
        Assert.Equal(firedOnFirst, ReferenceCheck.CountsDiffering(fewer, fixture));
        Assert.Equal(Enumerable.Range(0, 3).Sum(l => alone.ActiveCounts(l).ToArray().Sum()), ReferenceCheck.CountsMoved(fewer, fixture));
    }

    [Fact]
    public void Agreement_FailsOnMovedCounts_AndOnMovedLogits()
    {
        using var model = ReferenceTests.LoadFixtureModel();
        var fixture = ReferenceFixture.Open(Fixtures.TinyPreLn);
        var counted = NeuronCapture.Run(model, fixture.StatsSequences, new CaptureSettings(), StatsSource.Unknown);
        Assert.True(ReferenceCheck.Agreement(model, fixture, counted).Agrees);
        var fewer = ReferenceCheck.Agreement(model, fixture, NeuronCapture.Run(model, fixture.StatsSequences.Skip(1).ToList(), new CaptureSettings(), StatsSource.Unknown));
        Assert.False(fewer.Agrees);   // a float32 reference allows no count to move
        Assert.Equal((0L, true), (fewer.CountsMovedAllowed, fewer.MaxLogitDiff <= fewer.LogitTolerance));
        using (TorchSharp.torch.no_grad()) model.Decoder.FinalLayerNorm!.bias!.add_(0.5);   // every logit moves by 0.5 · Σ of its token's embedding
        var moved = ReferenceCheck.Agreement(model, fixture, counted);
        Assert.False(moved.Agrees);
        Assert.True(moved.MaxLogitDiff > 100 * moved.LogitTolerance, $"{moved.MaxLogitDiff} vs {moved.LogitTolerance}");
    }

    [Fact]
    public void Arrangement_NamesWhatAConfigSwitchesAway_From125m()
    {
        var opt125m = new OptNeurons.Model.OptConfig();
        Assert.Equal("pre-LN", ReferenceCheck.Arrangement(opt125m));
        Assert.Equal("post-LN, project_in/out", ReferenceCheck.Arrangement(opt125m with { DoLayerNormBefore = false, WordEmbedProjDimRaw = 512 }));
        Assert.Equal("pre-LN, no final LayerNorm, no biases, no LayerNorm weights, untied head", ReferenceCheck.Arrangement(opt125m with
        {
            RemoveFinalLayerNorm = true, EnableBias = false, LayerNormElementwiseAffine = false, TieWordEmbeddings = false,
        }));
        // Post-LN never has a final LayerNorm: that is its arrangement, not a switch.
        Assert.Equal("post-LN", ReferenceCheck.Arrangement(opt125m with { DoLayerNormBefore = false, RemoveFinalLayerNorm = true }));
    }

    [Fact]
    public void Shape_GivesTheSizes_AndTheEmbeddingWidthWhereProjected()
    {
        var opt125m = new OptNeurons.Model.OptConfig();
        Assert.Equal("12 layers, d 768 (12 heads), ffn 3072, vocab 50272", ReferenceCheck.Shape(opt125m));
        Assert.Equal("1 layer, d 1024 (1 head), ffn 4096, vocab 50272, embeddings 512", ReferenceCheck.Shape(opt125m with
        {
            NumHiddenLayers = 1, HiddenSize = 1024, NumAttentionHeads = 1, FfnDim = 4096, WordEmbedProjDimRaw = 512,
        }));
    }

    [Fact]
    public void Expect_ReturnsACheckmark_OrThrowsSayingWhat()
    {
        Assert.Equal("✓ x = 0.5 < 1", Expect.Below(0.5, 1, "x"));
        var e = Assert.Throws<ExpectationException>(() => Expect.Between(3, 0, 1, "dead share"));
        Assert.Equal("Expectation failed: dead share = 3 in [0, 1]", e.Message);
        Assert.Throws<ExpectationException>(() => Expect.SequenceEqual([1, 2], [1, 3], "counts"));
    }

    [Fact]
    public void Settings_DefaultToTheEmbeddedModel_FoundFromTheRepository()
    {
        Assert.Null(Environment.GetEnvironmentVariable(NotebookSettings.ModelVariable));   // the test assembly clears a user's choice
        var settings = NotebookSettings.FromEnvironment(AppContext.BaseDirectory);
        Assert.False(settings.ModelIsFixture);
        Assert.Equal("opt-mini", settings.ModelName);
        Assert.Equal([settings.Model], settings.ScalingModels);
        Assert.Null(settings.Revision);
        Assert.Contains("seed     0", settings.Banner(), StringComparison.Ordinal);
        Assert.Contains("corpus   sdk-docs, all of it", settings.Banner(), StringComparison.Ordinal);
    }

    [Fact]
    public void Tables_Of_MakesOneColumnPerProperty_KeepingNumbersAndJoiningLists()
    {
        var frame = Tables.Of(new[] { new { layer = 2, share = 0.5, tokens = (IReadOnlyList<int>)[7, 9], name = "a" } });
        Assert.Equal(["layer", "share", "tokens", "name"], frame.Columns.Select(c => c.Name));
        Assert.Equal(2, (int)frame["layer"][0]!);
        Assert.Equal(0.5, (double)frame["share"][0]!);
        Assert.Equal("7, 9", (string)frame["tokens"][0]!);
    }

    [Fact]
    public void Tables_ShowTheFirstRows_AndSayHowManyWereLeftOut()
    {
        var frame = new DataFrame(new Int32DataFrameColumn("layer", Enumerable.Range(0, 30)), new DoubleDataFrameColumn("rate", Enumerable.Repeat(0.123456, 30)));
        var html = Tables.ToHtml(frame, maxRows: 4);
        Assert.Equal(4, html.Split("<tr>").Length - 2);   // header row + 4 body rows
        Assert.Contains("<td>0.1235</td>", html, StringComparison.Ordinal);
        Assert.Contains("4 of 30 rows shown", html, StringComparison.Ordinal);
    }
}
