using OptNeurons.Findings;
using OptNeurons.Tests.Tokenization;
using OptNeurons.Tokenization;
using static OptNeurons.Stats.NgramKey;

namespace OptNeurons.Tests.Findings;

public class ScalingTests
{
    static ModelStats Model(string name, int layers, int numLayers) => new(name, numLayers,
        HandStats.Capture([[HandStats.Bos, 5, 6, 7]], 2, (l, n, _, p, _) => n == 0 && p == l, layers: layers));

    [Fact]
    public void Stack_OverlaysModelsOnOneRelativeDepthAxis()
    {
        var rows = Scaling.Stack([Model("small", 2, 2), Model("large", 4, 4)], m => DeadNeurons.PerLayer(m));
        Assert.Equal([("small", 0, 0.0), ("small", 1, 1.0), ("large", 0, 0.0), ("large", 1, 1 / 3.0), ("large", 2, 2 / 3.0), ("large", 3, 1.0)],
                     rows.Select(r => (r.Model, r.Layer, r.Depth)));
        Assert.All(rows, r => Assert.Equal(1, r.Dead));
    }

    [Fact]
    public void FirstHalf_UsesTheModelsLayerCount_NotTheCapturedOnes()
    {
        var model = Model("partial", 3, 8);   // layers 0-2 of an 8-layer model: all in its first half
        Assert.Equal([0, 1, 2], model.Layers(firstHalfOnly: true));
        Assert.Equal([0, 1], Model("full", 3, 4).Layers(firstHalfOnly: true));
        Assert.Throws<ArgumentException>(() => new ModelStats("bad", 2, Model("x", 3, 3).Stats));
    }

    [Fact]
    public void RelativeDepth_HasThreeNamedScales()
    {
        Assert.Equal((0.5, 0.375, 0.5), (RelativeDepth.Of(2, 5), RelativeDepth.Of(1, 4, DepthScale.LayerCentre), RelativeDepth.Of(1, 4, DepthScale.LayerEnd)));
        Assert.Equal(0.0, RelativeDepth.Of(0, 1));
    }

    [Fact]
    public void NgramText_SpellsEachToken()
    {
        using var vocab = new TinyVocabulary();
        var tok = OptTokenizer.FromDirectory(vocab.Directory);
        Assert.Equal("hello Ġworld", NgramText.Of(tok, Pack(32, 37), 2));
    }
}

public class LayerHalvesTests
{
    [Fact]
    public void HalvesSplitAtTheMiddleLayer_SkipUnreadValues_AndFindTheFirstPeak()
    {
        // L = 5: the first half is layers 0, 1, 2 (2·l < 5), the second 3, 4.
        var halves = LayerHalves.Of([10.0, null, 40.0, 2.0, 40.0]);
        Assert.Equal(25.0, halves.FirstHalfMean);
        Assert.Equal(21.0, halves.SecondHalfMean);
        Assert.Equal((40.0, 2), (halves.Max, halves.MaxLayer));
        Assert.Equal(0.5, halves.MaxDepth);
        Assert.Throws<ArgumentException>(() => LayerHalves.Of(new double?[] { null, null }));
    }

    [Fact]
    public void PaperFigures_CoverEveryLayer_AndAgreeWithTheText()
    {
        foreach (var model in PaperFigures.Models)
            Assert.Equal(PaperFigures.Layers(model), PaperFigures.DeadPercent(model).Count);
        Assert.True(LayerHalves.Of(PaperFigures.DeadPercent("66b")).Max > PaperFigures.DeadPercentAbove66b);
        // The digitised detectors of 66b sum to within 2 % of the 5351 the text states.
        Assert.InRange(PaperFigures.TokenDetectors("66b").Sum()!.Value, 0.98 * PaperFigures.TokenDetectors66b, 1.02 * PaperFigures.TokenDetectors66b);
        Assert.Equal(32, PaperFigures.TokenDetectors("66b").Count);
    }
}
