using OptNeurons.Capture;
using OptNeurons.Loading;
using OptNeurons.Stats;
using OptNeurons.Tests.Support;
using TorchSharp;
using static OptNeurons.Tests.Streaming.StreamingTestData;

namespace OptNeurons.Tests.Streaming;

/// <summary>Shards merged give the unsharded run exactly (while no summary overflows), and bad sets are refused.</summary>
public class ShardTests
{
    // K = 256 ≥ the distinct n-grams any neuron sees here, so no summary overflows and the merge is exact.
    static CaptureSettings Exact() => Settings() with { Stats = new StatsOptions { SketchCapacity = 256 } };

    static List<string> RunShards(ICaptureEngine engine, List<long[]> sequences, string root, int n, CaptureSettings settings) =>
        Enumerable.Range(0, n).Select(i =>
        {
            var output = Path.Combine(root, $"shard-{i}-of-{n}");
            ResumableCapture.Run(engine, sequences, settings, Source(((LayerStreamedEngine)engine).Checkpoint), output, new() { Shard = new ShardSpec(i, n) });
            return output;
        }).ToList();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void MergedShards_EqualTheUnshardedRun_ByteForByte(int n)
    {
        using var dir = new TempDirectory();
        var engine = new LayerStreamedEngine(Checkpoint.Open(Generated(dir.Path)), torch.CPU, torch.ScalarType.Float32);
        var sequences = Sequences(13, 96, 24);
        var whole = ResumableCapture.Run(engine, sequences, Exact(), Source(engine.Checkpoint), dir.Sub("whole"));
        Assert.All(Enumerable.Range(0, 32), f => Assert.Equal(0, whole.SketchError(4, f, 3)));

        var shards = RunShards(engine, sequences, dir.Path, n, Exact());
        shards.Reverse();   // any order
        var merged = ShardMerge.Run(shards, dir.Sub("merged"));
        AssertSameBytes(Bytes(dir.Sub("whole")), Bytes(dir.Sub("merged")));
        Assert.EndsWith("the result equals the unsharded capture byte for byte.", ShardMerge.ExactnessNote(merged));
        Assert.Equal(whole.TokenCount, merged.TokenCount);
        var progress = CaptureProgress.Read(dir.Sub("merged"))!;
        Assert.Empty(progress.Job.Differences(CaptureProgress.Read(dir.Sub("whole"))!.Job));
        Assert.Equal(n, progress.MergedFrom!.Count);
        Assert.Equal($"{n - 1}/{n}", CaptureProgress.Read(shards[0])!.Job.Shard);
    }

    /// <summary>
    /// With K = 2 the summaries overflow: the merged ones differ from a single pass, but every stored count stays within
    /// its error of the true count (from an exact run), the exact parts still equal the unsharded run, and the merge's
    /// note counts the overflowed summaries.
    /// </summary>
    [Fact]
    public void OverflowingSummaries_MergeWithinTheirErrors_AndTheNoteCountsThem()
    {
        using var dir = new TempDirectory();
        var engine = new LayerStreamedEngine(Checkpoint.Open(Generated(dir.Path)), torch.CPU, torch.ScalarType.Float32);
        var sequences = Sequences(13, 96, 24);
        var small = Settings() with { Stats = new StatsOptions { SketchCapacity = 2 } };
        var whole = ResumableCapture.Run(engine, sequences, small, Source(engine.Checkpoint), dir.Sub("whole"));
        var truth = ResumableCapture.Run(engine, sequences, Exact(), Source(engine.Checkpoint), dir.Sub("exact"));
        var merged = ShardMerge.Run(RunShards(engine, sequences, dir.Path, 3, small), dir.Sub("merged"));

        Assert.Equal(whole.ActiveCountsFlat, merged.ActiveCountsFlat);
        Assert.Equal(whole.PositionActiveCountsByLayer, merged.PositionActiveCountsByLayer);
        Assert.Equal(whole.OccurrenceEntries(3), merged.OccurrenceEntries(3));
        var note = ShardMerge.ExactnessNote(merged);
        foreach (int n in new[] { 1, 2, 3 })
        {
            int overflowed = 0;
            foreach (int layer in merged.Layers)
                for (int f = 0; f < merged.FfnDim; f++)
                {
                    long error = merged.SketchError(layer, f, n);
                    if (error > 0) overflowed++;
                    var exact = truth.TopTriggers(layer, f, n).ToDictionary(t => t.Key, t => t.Count);
                    foreach (var (key, count) in merged.TopTriggers(layer, f, n).Where(t => t.Key >= 0))
                        Assert.InRange(count, exact[key] - error, exact[key]);
                }
            Assert.True(overflowed > 0, $"K = 2 should overflow some {n}-gram summary");
            Assert.Equal(overflowed, merged.OverflowedSummaries(n));
            Assert.Contains($"{n}-grams in {overflowed:N0}", note);
        }
        Assert.Contains($"of {merged.Layers.Count * merged.FfnDim:N0} neurons", note);
        Assert.NotEqual(Bytes(dir.Sub("whole")).Tensors, Bytes(dir.Sub("merged")).Tensors);
    }

    [Fact]
    public void ContiguousBlocks_CoverEverySequenceOnce()
    {
        var ranges = Enumerable.Range(0, 3).Select(i => new ShardSpec(i, 3).Range(10)).ToList();
        Assert.Equal([(0, 3), (3, 6), (6, 10)], ranges);
        Assert.Contains("is empty", Assert.Throws<ArgumentException>(() => new ShardSpec(0, 4).Range(3)).Message);
        Assert.Equal(new ShardSpec(7, 8), ShardSpec.Parse("7/8"));
        Assert.Contains("not i/n", Assert.Throws<ArgumentException>(() => ShardSpec.Parse("8/8")).Message);
    }

    [Fact]
    public void Merge_RefusesMissingOverlappingForeignAndUnfinishedShards()
    {
        using var dir = new TempDirectory();
        var engine = new LayerStreamedEngine(Checkpoint.Open(Generated(dir.Path)), torch.CPU, torch.ScalarType.Float32);
        var sequences = Sequences(13, 96, 24);
        var three = RunShards(engine, sequences, dir.Sub("three"), 3, Exact());
        var two = RunShards(engine, sequences, dir.Sub("two"), 2, Exact());
        string Refusal(params string[] dirs) => Assert.Throws<ArgumentException>(() => ShardMerge.Run(dirs, dir.Sub("merged"))).Message;

        Assert.Contains("shard 1/3 missing", Refusal(three[0], three[2]));
        Assert.Contains("shard 2/3 is given twice", Refusal(three[0], three[1], three[2], three[2]));
        Assert.Contains("shards overlap", Refusal(three[0], three[1], three[2], two[1]));
        var other = new LayerStreamedEngine(Checkpoint.Open(Generated(dir.Path, layers: 4)), torch.CPU, torch.ScalarType.Float32);
        var foreign = RunShards(other, sequences, dir.Sub("foreign"), 3, Exact());
        var message = Refusal(three[0], foreign[1], three[2]);
        Assert.Contains("are shards of different jobs", message);
        Assert.Contains($"config_hash: {other.Config.Hash} vs {engine.Config.Hash}", message);
        Assert.Contains("not the output of a capture run", Refusal(three[0], dir.Path));

        File.WriteAllText(Path.Combine(three[1], CaptureProgress.FileName),
            File.ReadAllText(Path.Combine(three[1], CaptureProgress.FileName)).Replace("\"complete\": true", "\"complete\": false"));
        Assert.Contains("unfinished shard", Refusal(three[0], three[1], three[2]));
        Assert.False(Directory.Exists(dir.Sub("merged")));

        // The output folder never replaces a shard, or anything else.
        var before = File.ReadAllBytes(Path.Combine(two[0], NeuronStats.TensorsFile));
        Assert.Contains("is the shard", Assert.Throws<ArgumentException>(() => ShardMerge.Run(two, two[0] + "/")).Message);
        Assert.Contains("is not empty", Assert.Throws<ArgumentException>(() => ShardMerge.Run(two, three[0])).Message);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(two[0], NeuronStats.TensorsFile)));
        Directory.CreateDirectory(dir.Sub("empty"));
        ShardMerge.Run(two, dir.Sub("empty"));   // an empty folder is fine, and gets the unsharded result
        ResumableCapture.Run(engine, sequences, Exact(), Source(engine.Checkpoint), dir.Sub("whole"));
        AssertSameBytes(Bytes(dir.Sub("whole")), Bytes(dir.Sub("empty")));
        Assert.Contains("is not empty", Assert.Throws<ArgumentException>(() => ShardMerge.Run(two, dir.Sub("empty"))).Message);   // a finished merge
        var stopped = Directory.CreateDirectory(dir.Sub("stopped")).FullName;   // a merge killed while writing its statistics
        File.WriteAllText(Path.Combine(stopped, $"{NeuronStats.TensorsFile}.4242.0123456789abcdef.tmp"), "");
        Assert.Contains("holds a merge that was stopped before it finished", Assert.Throws<ArgumentException>(() => ShardMerge.Run(two, stopped)).Message);
    }
}
