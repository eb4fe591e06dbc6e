using OptNeurons.Loading;
using OptNeurons.Stats;
using OptNeurons.Tests.Support;
using static OptNeurons.Tests.Stats.StatsTestData;
using static TorchSharp.torch;

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

    [Fact]
    public void ResumedWithoutPositions_EqualsOneUninterruptedRun()
    {
        var options = Small with { TrackPositions = false };
        var seqs = RandomSequences(seed: 9, count: 8, minLength: 2, maxLength: 9, vocab: 11, layers: 2, ffn: 5, density: 0.5);
        using var whole = new NeuronStatsCollector(options, Layers, 5, 10, vocabSize: 11);
        Feed(whole, seqs, batchSize: 2, leftPad: true, Layers);
        using var first = new NeuronStatsCollector(options, Layers, 5, 10, vocabSize: 11);
        Feed(first, seqs[..4], 2, leftPad: true, Layers);
        using var resumed = NeuronStatsCollector.Resume(first.Result());
        Feed(resumed, seqs[4..], 2, leftPad: true, Layers);
        AssertEqual(whole.Result(), resumed.Result());
    }

    [Fact]
    public void Resume_RefusesActiveCountsThatAreNotThePositionCountsSummed()
    {
        var seqs = RandomSequences(seed: 10, count: 4, minLength: 2, maxLength: 9, vocab: 11, layers: 2, ffn: 5, density: 0.5);
        using var dir = new TempDirectory();
        using (var c = new NeuronStatsCollector(Small, Layers, 5, 10, vocabSize: 11))
        {
            Feed(c, seqs, 2, leftPad: false, Layers);
            c.Result().Save(dir.Path);
        }
        var path = Path.Combine(dir.Path, NeuronStats.TensorsFile);
        var (_, metadata) = SafeTensors.ReadHeader(path);
        var tensors = SafeTensors.ReadAll(path);
        tensors["active_counts"][1, 3].add_(1);
        SafeTensors.Write(path, tensors, metadata);
        foreach (var t in tensors.Values) t.Dispose();
        var saved = NeuronStats.Load(dir.Path);
        Assert.Contains("active counts differ from the sum of the saved per-position counts",
                        Assert.Throws<InvalidDataException>(() => NeuronStatsCollector.Resume(saved)).Message);
    }
}
