using OptNeurons.Findings;
using OptNeurons.Model;
using OptNeurons.Tests.Support;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Findings;

public class ProjectionTests
{
    // Unembedding rows of tokens 0 … 7 (tied to embed_tokens), and fc2 columns of neurons 0, 1, 2.
    static readonly float[,] Embedding = { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 }, { 1, 1, 0, 0 }, { 0, 0, 1, 1 }, { -1, 0, 0, 0 }, { 0, 0, 0, 0 } };
    static readonly float[][] Columns = [[0.5f, 0, -1, -0.5f], [0, 1, 0, -1], [1, 0, 0, 0]];

    static OptForCausalLM Model()
    {
        var model = new OptForCausalLM(SyntheticWeights.TinyConfig() with { VocabSize = 8, HiddenSize = 4, FfnDim = 3, NumHiddenLayers = 1 });
        using var _ = no_grad();
        model.Decoder.TokenEmbedding.weight!.copy_(tensor(Embedding));
        var fc2 = new float[4, 3];
        for (int n = 0; n < 3; n++) for (int h = 0; h < 4; h++) fc2[h, n] = Columns[n][h];
        model.Decoder.Layers[0].Fc2Weight.copy_(tensor(fc2));
        model.Decoder.FinalLayerNorm!.weight!.copy_(tensor(new float[] { 2, 1, 1, 1 }));
        return model;
    }

    static NgramDetector Detector(int neuron, params long[] tokens) => new("hand", 0, 1, 0, neuron, 1, tokens, 10, 10, tokens.Length, true);

    [Fact]
    public void Top_ListsPromotedAndSuppressedTokens_TiesById()
    {
        using var model = Model();
        var top = VocabularyProjection.Top(model, 0, 0, new ProjectionOptions { TopK = 3 });
        // Scores: 0.5, 0, -1, -0.5, 0.5, -1.5, -0.5, 0 for tokens 0 … 7.
        Assert.Equal([new(0, 0.5f), new(4, 0.5f), new TokenScore(1, 0)], top.Promoted);
        Assert.Equal([new(5, -1.5f), new(2, -1f), new TokenScore(3, -0.5f)], top.Suppressed);
        Assert.Equal(6, VocabularyProjection.Scores(model, 0, [0], new ProjectionOptions { ScoredTokens = 6 })[0].Length);
    }

    [Fact]
    public void Scores_Linearized_CentresAndScalesByTheFinalNorm()
    {
        using var model = Model();
        var s = VocabularyProjection.Scores(model, 0, [0], new ProjectionOptions { FinalNorm = FinalNormHandling.Linearized })[0];
        // w - mean(w) = (0.75, 0.25, -0.75, -0.25), times γ = (2, 1, 1, 1): (1.5, 0.25, -0.75, -0.25).
        Assert.Equal([1.5f, 0.25f, -0.75f, -0.25f, 1.75f, -1f, -1.5f, 0f], s);
    }

    [Fact]
    public void Suppression_AppliesTheThreeTests()
    {
        using var model = Model();
        var search = new DetectorSearch("hand", 1, [0], DetectorOptions.Tokens, [Detector(0, 2, 5), Detector(1, 1, 3), Detector(2, 6, 7)], []);
        var rows = Suppression.PerDetector(model, search, new ProjectionOptions { TopK = 3 });
        Assert.Equal([(-1.25, -1f, 1), (0.0, 1f, 6), (-0.5, 0f, 5)], rows.Select(r => (r.MeanScore, r.MaxScore, r.WorstRank)));
        Assert.Equal([true, false, true], rows.Select(r => r.MeanBelowZero));
        Assert.Equal([true, false, false], rows.Select(r => r.EveryBelowZero));
        Assert.Equal([true, false, false], rows.Select(r => r.AllInBottomK));
        var overall = Suppression.Overall(rows);
        Assert.Equal((3, 2, 1, 1), (overall.Detectors, overall.MeanBelowZero, overall.EveryBelowZero, overall.AllInBottomK));
        Assert.Equal(2.0 / 3, overall.MeanBelowZeroShare);
        Assert.Equal(3, Assert.Single(Suppression.PerLayer(rows)).Detectors);
    }

    [Fact]
    public void Scores_PostLnModel_ProjectsThroughProjectOut()
    {
        var config = SyntheticWeights.TinyConfig() with { VocabSize = 3, HiddenSize = 4, FfnDim = 2, NumHiddenLayers = 1, DoLayerNormBefore = false, WordEmbedProjDimRaw = 2 };
        using var model = new OptForCausalLM(config);
        using (no_grad())
        {
            model.Decoder.TokenEmbedding.weight!.copy_(tensor(new float[,] { { 1, 0 }, { 0, 1 }, { 1, -1 } }));
            model.Decoder.ProjectOut!.weight!.copy_(tensor(new float[,] { { 1, 1, 0, 0 }, { 0, 0, 1, 1 } }));   // (2, 4): sums of halves
            model.Decoder.Layers[0].Fc2Weight.copy_(tensor(new float[,] { { 1, 0 }, { 2, 0 }, { 3, 0 }, { 4, 0 } }));
        }
        Assert.Null(model.Decoder.FinalLayerNorm);
        // project_out · w = (3, 7); scores (3, 7, -4). Linearized has no final norm to apply in a post-LN model.
        Assert.Equal([3f, 7f, -4f], VocabularyProjection.Scores(model, 0, [0])[0]);
        Assert.Equal([3f, 7f, -4f], VocabularyProjection.Scores(model, 0, [0], new ProjectionOptions { FinalNorm = FinalNormHandling.Linearized })[0]);
    }
}
