using OptNeurons.Capture;
using OptNeurons.Loading;
using OptNeurons.Stats;
using OptNeurons.Tests.Support;
using TorchSharp;
using static OptNeurons.Tests.Streaming.StreamingTestData;

namespace OptNeurons.Tests.Streaming;

/// <summary>A capture killed at any stage resumes to byte-identical statistics, and refuses to mix jobs.</summary>
public class ResumeTests
{
    sealed class Killed : Exception;

    static LayerStreamedEngine Engine(string path) => new(Checkpoint.Open(path), torch.CPU, torch.ScalarType.Float32);

    /// <summary>A capture of <paramref name="sequences"/> into <paramref name="output"/>, killed at (stage, sequences done).</summary>
    static void KillAt(LayerStreamedEngine engine, List<long[]> sequences, string output, CaptureStage stage, int done) =>
        Assert.Throws<Killed>(() => ResumableCapture.Run(engine, sequences, Settings(), Source(engine.Checkpoint), output,
            new() { CheckpointEvery = TimeSpan.Zero, Hook = (s, n) => { if ((s, n) == (stage, done)) throw new Killed(); } }));

    [Fact]
    public void KillAtEveryStage_ResumesToTheUninterruptedBytes()
    {
        using var dir = new TempDirectory();
        var path = Generated(dir.Path);
        var engine = Engine(path);
        var sequences = Sequences(14, 96, 24);   // chunks of 6: 6, 6, 2 sequences
        var source = Source(engine.Checkpoint);
        ResumableCapture.Run(engine, sequences, Settings(), source, dir.Sub("reference"));
        var expected = Bytes(dir.Sub("reference"));

        var stages = new List<(CaptureStage, int)>();
        ResumableCapture.Run(engine, sequences, Settings(), source, dir.Sub("probe"), new() { CheckpointEvery = TimeSpan.Zero, Hook = (s, n) => stages.Add((s, n)) });
        Assert.Equal(8, stages.Count);   // 2 checkpointed chunks × 3 stages, the last chunk, the final save
        var hourly = new List<(CaptureStage Stage, int)>();
        ResumableCapture.Run(engine, sequences, Settings(), source, dir.Sub("hourly"), new() { CheckpointEvery = TimeSpan.FromHours(1), Hook = (s, n) => hourly.Add((s, n)) });
        Assert.DoesNotContain(hourly, s => s.Stage == CaptureStage.CheckpointSaved);   // a save waits its interval after the start
        AssertSameBytes(expected, Bytes(dir.Sub("hourly")));
        foreach (var (stage, done) in stages)
        {
            var output = dir.Sub($"killed-{stage}-{done}");
            KillAt(engine, sequences, output, stage, done);
            // Resumed with another chunk size and the full-model engine: neither changes a number.
            using var model = Pretrained.Load(path, "cpu", "float32");
            ResumableCapture.Run(new FullModelEngine(model), sequences, Settings(chunk: 3), source, output);
            AssertSameBytes(expected, Bytes(output));
            Assert.False(Directory.Exists(Path.Combine(output, "partial")));
            Assert.True(CaptureProgress.Read(output)!.Complete);
        }
    }

    [Fact]
    public void AProgressFileThatDisagreesWithItsCheckpoint_IsRefused()
    {
        using var dir = new TempDirectory();
        var engine = Engine(Generated(dir.Path));
        var sequences = Sequences(14, 96, 24);
        var output = dir.Sub("out");
        KillAt(engine, sequences, output, CaptureStage.ProgressWritten, 6);
        var progress = CaptureProgress.Read(output)!;
        (progress with { SequencesDone = 12 }).Write(output);   // the checkpoint still holds 6: resuming after 12 would skip 6
        var error = Assert.Throws<InvalidDataException>(() => ResumableCapture.Run(engine, sequences, Settings(), Source(engine.Checkpoint), output));
        Assert.Contains("says 12 of the shard's 14 sequences are done, but its checkpoint partial", error.Message);
        Assert.Contains("counted 6;", error.Message);
    }

    [Fact]
    public void HalfWrittenCheckpoint_IsIgnoredAndRemoved_AndAFinishedRunIsNotRedone()
    {
        using var dir = new TempDirectory();
        var engine = Engine(Generated(dir.Path));
        var sequences = Sequences(14, 96, 24);
        var output = dir.Sub("out");
        KillAt(engine, sequences, output, CaptureStage.ChunkCounted, 12);
        var stray = Directory.CreateDirectory(Path.Combine(output, "partial", "0000000012")).FullName;
        File.WriteAllText(Path.Combine(stray, NeuronStats.TensorsFile), "killed while saving");
        var strayTemporary = Path.Combine(output, $"{NeuronStats.TensorsFile}.4242.0123456789abcdef.tmp");   // as AtomicFile names it
        File.WriteAllText(strayTemporary, "killed while writing the final statistics");
        var resumedLog = new StringWriter();
        var resumed = ResumableCapture.Run(engine, sequences, Settings(), Source(engine.Checkpoint), output, new() { Log = resumedLog });
        Assert.False(Directory.Exists(stray));
        Assert.False(File.Exists(strayTemporary));
        Assert.Contains("resuming", resumedLog.ToString());
        var share = System.Text.RegularExpressions.Regex.Match(resumedLog.ToString(), @"the statistics took (\S+) s of this run's (\S+) s \((\S+) %\)\.");
        Assert.True(share.Success, resumedLog.ToString());
        double counting = double.Parse(share.Groups[1].Value), total = double.Parse(share.Groups[2].Value), percent = double.Parse(share.Groups[3].Value);
        Assert.InRange(counting, 0, total);
        Assert.InRange(percent, 0, 100);

        var log = new StringWriter();
        var again = ResumableCapture.Run(engine, sequences, Settings(), Source(engine.Checkpoint), output, new() { Log = log });
        Assert.Contains("already holds this job's finished statistics", log.ToString());
        AssertSameBytes(Bytes(resumed), Bytes(again));
    }

    [Fact]
    public void PartialRunOfAnotherJob_IsRefusedNamingFieldAndValues_UnlessRestarted()
    {
        using var dir = new TempDirectory();
        var engine = Engine(Generated(dir.Path));
        var sequences = Sequences(14, 96, 24);
        var output = dir.Sub("out");
        KillAt(engine, sequences, output, CaptureStage.ProgressWritten, 6);   // the first chunk's
        string Refusal(ICaptureEngine e, List<long[]> seqs, CaptureSettings settings, StatsSource source) =>
            Assert.Throws<InvalidOperationException>(() => ResumableCapture.Run(e, seqs, settings, source, output)).Message;

        var other = Engine(Generated(dir.Path, layers: 4));
        var model = Refusal(other, sequences, Settings(), Source(other.Checkpoint));
        Assert.Contains($"config_hash: {other.Config.Hash} vs {engine.Config.Hash}", model);   // this run's value first
        Assert.Contains("layers: 4 vs 5", model);
        var changed = sequences.Select(s => (long[])s.Clone()).ToList();
        changed[9][1] = 5;
        var data = Refusal(engine, changed, Settings(), Source(engine.Checkpoint));
        Assert.Contains($"data_hash: {CaptureJob.HashSequences(changed)} vs {CaptureJob.HashSequences(sequences)}", data);
        var options = Refusal(engine, sequences, Settings() with { Stats = new StatsOptions { SketchCapacity = 8 } }, Source(engine.Checkpoint));
        Assert.Contains("options: IncludeFirstPosition=True, TrackPositions=True, NgramOrders=[1, 2, 3], SketchCapacity=8 vs ", options);
        Assert.Contains("SketchCapacity=4", options);
        var batch = Refusal(engine, sequences, Settings() with { BatchSize = 2, ChunkSize = 6 }, Source(engine.Checkpoint));
        Assert.Contains("batch_size: 2 vs 3", batch);
        Assert.EndsWith("give --batch-size 3 to resume it, or pass --restart to discard it.", batch);   // as when --memory-budget picked another
        Assert.Contains("pass --restart", options);
        var weights = Assert.Throws<InvalidOperationException>(() => ResumableCapture.Run(engine, sequences, Settings(), Source(engine.Checkpoint), output,
            new() { Weights = "0123456789abcdef" })).Message;   // the same path and config, other weights
        Assert.Contains("weights: 0123456789abcdef vs (none)", weights);

        File.WriteAllText(Path.Combine(output, ActivationDump.ActivationsFile), "the previous job's");   // as --activations leaves them
        File.WriteAllText(Path.Combine(output, ActivationDump.LogitsFile), "the previous job's");
        var restarted = ResumableCapture.Run(engine, changed, Settings(), Source(engine.Checkpoint), output, new() { Restart = true });
        AssertSameBytes(Bytes(NeuronCapture.Run(engine, changed, Settings(), Source(engine.Checkpoint))), Bytes(restarted));
        Assert.False(File.Exists(Path.Combine(output, ActivationDump.ActivationsFile)));   // nothing of the old job beside the new
        Assert.False(File.Exists(Path.Combine(output, ActivationDump.LogitsFile)));
    }

    [Fact]
    public void InvalidData_IsRefusedBeforeAnythingIsWritten_SoTheCorrectedRunNeedsNoRestart()
    {
        using var dir = new TempDirectory();
        var engine = Engine(Generated(dir.Path));
        var sequences = Sequences(14, 96, 24);
        var output = dir.Sub("out");
        var outside = sequences.Select(s => (long[])s.Clone()).ToList();
        outside[9][3] = engine.Config.VocabSize;
        Assert.Equal($"sequence 9, position 3: token id {engine.Config.VocabSize} is outside the model's vocabulary [0, {engine.Config.VocabSize}).",
                     Assert.Throws<ArgumentException>(() => ResumableCapture.Run(engine, outside, Settings(), Source(engine.Checkpoint), output)).Message);
        var tooLong = sequences.Select(s => (long[])s.Clone()).ToList();
        var settings = Settings();
        tooLong[4] = [2, .. Enumerable.Repeat(7L, settings.MaxLength!.Value)];
        Assert.Equal($"sequence 4 has {settings.MaxLength + 1} tokens; a captured sequence has 1 to MaxLength ({settings.MaxLength}).",
                     Assert.Throws<ArgumentException>(() => ResumableCapture.Run(engine, tooLong, settings, Source(engine.Checkpoint), output)).Message);
        Assert.False(Directory.Exists(output));

        var fixedRun = ResumableCapture.Run(engine, sequences, settings, Source(engine.Checkpoint), output);   // no --restart needed
        Assert.Equal(sequences.Sum(s => (long)s.Length), fixedRun.TokenCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StreamedCapture_KeepsLiveTensorCountFlat_AcrossChunks(bool readAhead)
    {
        using var dir = new TempDirectory();
        var engine = new LayerStreamedEngine(Checkpoint.Open(Generated(dir.Path)), torch.CPU, torch.ScalarType.Float32,
            new StreamingOptions { Residual = ResidualPlace.Host, ReadAhead = readAhead });
        var sequences = Sequences(18, 96, 24);
        var settings = Settings(chunk: 3).Resolve(engine.Config, sequences);
        NeuronCapture.Run(engine, sequences.Take(3).ToList(), settings, Source(engine.Checkpoint));   // warm-up
        using var collector = NeuronCapture.NewCollector(engine, settings);
        DisposeScopeManager.Statistics.Reset();
        long baseline = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        foreach (var chunk in NeuronCapture.Chunks(sequences, 0, sequences.Count, settings))
        {
            NeuronCapture.RunChunk(engine, collector, chunk, settings);
            Assert.True(baseline == DisposeScopeManager.Statistics.ThreadTotalLiveCount, DisposeScopeManager.Statistics.ToString());
        }
        Assert.Equal(sequences.Sum(s => s.Length), collector.TokenCount);
    }
}
