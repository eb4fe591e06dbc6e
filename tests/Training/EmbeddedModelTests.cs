using System.Text.Json.Nodes;
using OptNeurons.Corpus;
using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Notebooks;
using OptNeurons.Tokenization;
using OptNeurons.Training;
using OptNeurons.Workbook;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Training;

/// <summary>The models committed under data/models: what their cards say, re-measured.</summary>
public class EmbeddedModelTests
{
    static string Repo => OptNeurons.Corpus.ProjectCache.FindCheckout(AppContext.BaseDirectory)!;

    /// <summary>Each committed model with whether it has learned positions and whether LayerNorm comes before each block.</summary>
    public static TheoryData<string, bool, bool> Models => new()
    {
        { NotebookSettings.DefaultModel, true, true }, { NotebookSettings.NoPosModel, false, true }, { NotebookSettings.PostLnModel, true, false },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void CommittedModel_Loads_FitsTheBudget_AndItsTokenizerRoundTrips(string folder, bool positions, bool preLayerNorm)
    {
        var dir = Path.Combine(Repo, folder);
        long bytes = Directory.EnumerateFiles(dir).Sum(f => new FileInfo(f).Length);
        Assert.InRange(bytes, 1, 20_000_000);
        using var model = Pretrained.Load(dir, "cpu", "float32");
        Assert.Equal(positions, model.Config.HasLearnedPositions);
        Assert.Equal(preLayerNorm, model.Config.DoLayerNormBefore);
        Assert.Equal(preLayerNorm, model.Decoder.FinalLayerNorm is not null);   // OPT-350m's placement has no final LayerNorm
        Assert.Equal("float16", (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!["torch_dtype"]);

        var tokenizer = OptTokenizer.FromDirectory(dir);
        const string text = "Gets or sets the value of the <see cref=\"T:System.Int32\"/> property, in 1969.\n    return a + b;";
        var ids = tokenizer.Encode(text);
        Assert.Equal(2, ids[0]);
        Assert.Equal(text, tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void CardsAnalysisLoss_IsReproduced_Within1Percent(string folder, bool positions, bool preLayerNorm)
    {
        var dir = Path.Combine(Repo, folder);
        using var model = Pretrained.Load(dir, "cpu", "float32");
        Assert.Equal((positions, preLayerNorm), (model.Config.HasLearnedPositions, model.Config.DoLayerNormBefore));
        var corpus = NamedCorpus.ForModel(NamedCorpus.SdkDocs, dir, model.Config.MaxPositionEmbeddings, seed: 0, fullLengthOnly: true);
        double measured = CardMeasurements.MeanLoss(model, corpus.Sequences.Take(CardMeasurements.DefaultLossSequences).ToList());
        double stated = CardMeasurements.StatedLoss(File.ReadAllText(Path.Combine(dir, ModelCard.FileName)));
        Assert.InRange(measured, 0.99 * stated, 1.01 * stated);
    }

    [Fact]
    public void Loss_OfAModelWithZeroEmbeddings_IsLogVocabulary()
    {
        using var model = new OptForCausalLM(new OptConfig { VocabSize = 64, HiddenSize = 8, NumHiddenLayers = 1, FfnDim = 16, NumAttentionHeads = 2, MaxPositionEmbeddings = 8 });
        OptInitializer.Apply(model, seed: 1);
        using (no_grad()) model.Decoder.TokenEmbedding.weight.zero_();   // tied head: every logit 0, a uniform prediction
        double loss = CardMeasurements.MeanLoss(model, [[2, 5, 9, 11], [2, 7, 7, 3]]);
        Assert.Equal(Math.Log(64), loss, 1e-5);
    }

    [Fact]
    public void CardSection_ReplacesAnEarlierOne_AndItsLossReadsBack()
    {
        const string section = CardMeasurements.Heading + "\n\n| analysis loss | 3.2100 nats (perplexity 24.8) |\n";
        var card = CardMeasurements.Replace("# Model card\n\ntrained.\n", section);
        Assert.Equal(3.21, CardMeasurements.StatedLoss(card));
        var again = CardMeasurements.Replace(card, section.Replace("3.2100", "3.1000", StringComparison.Ordinal));
        Assert.Equal(3.1, CardMeasurements.StatedLoss(again));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(again, CardMeasurements.Heading));
        Assert.Throws<InvalidDataException>(() => CardMeasurements.StatedLoss("# Model card\n"));
    }
}
