using OptNeurons.Stats;
using OptNeurons.Tests.Support;
using static OptNeurons.Tests.Stats.StatsTestData;

namespace OptNeurons.Tests.Stats;

/// <summary>A collector resumed from saved statistics continues exactly; merging partial results does not, once summaries overflow.</summary>
public class ResumeCollectorTests
{
    static readonly int[] Layers = [2, 5];
    static readonly StatsOptions Small = new() { SketchCapacity = 2 };   // overflows on every neuron

    [Fact]
    public void ResumedFromDisk_EqualsOneUninterruptedRun_WhereMergeDoesNot()
    {
        var seqs = RandomSequences(seed: 8, count: 12, minLength: 3, maxLength: 9, vocab: 11, layers: 2, ffn: 5, density: 0.5);
        using var whole = new NeuronStatsCollector(Small, Layers, 5, 10, vocabSize: 11);
        Feed(whole, seqs, batchSize: 3, leftPad: false, Layers);
        var expected = whole.Result();

        using var dir = new TempDirectory();
        using (var first = new NeuronStatsCollector(Small, Layers, 5, 10, vocabSize: 11))
        {
            Feed(first, seqs[..6], 3, leftPad: false, Layers);
            first.Result().Save(dir.Path);
        }
        using var resumed = NeuronStatsCollector.Resume(NeuronStats.Load(dir.Path));
        Feed(resumed, seqs[6..], 3, leftPad: false, Layers);
        AssertEqual(expected, resumed.Result());

        using var second = new NeuronStatsCollector(Small, Layers, 5, 10, vocabSize: 11);
        Feed(second, seqs[6..], 3, leftPad: false, Layers);
        var merged = NeuronStats.Merge(NeuronStats.Load(dir.Path), second.Result());
        Assert.Equal(expected.ActiveCountsFlat, merged.ActiveCountsFlat);   // exact parts agree …
        bool Same(NgramSketch a, NgramSketch b) => a.Keys.SequenceEqual(b.Keys) && a.Counts.SequenceEqual(b.Counts) && a.Errors.SequenceEqual(b.Errors);
        Assert.False(Same(expected.Sketch(1), merged.Sketch(1)) && Same(expected.Sketch(3), merged.Sketch(3)));   // … the overflowing summaries do not
    }
}
