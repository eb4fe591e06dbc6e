using System.Diagnostics;
using OptNeurons.Runtime;
using OptNeurons.Stats;

namespace OptNeurons.Capture;

/// <summary>Moments of a resumable capture at which a test can simulate a kill.</summary>
internal enum CaptureStage { ChunkCounted, CheckpointSaved, ProgressWritten, FinalSaved }

/// <summary>Options of <see cref="ResumableCapture.Run"/>.</summary>
public sealed record ResumableCaptureOptions
{
    /// <summary>Which part of the sequences this run counts; <see cref="ShardSpec.Whole"/> by default.</summary>
    public ShardSpec Shard { get; init; } = ShardSpec.Whole;
    /// <summary>Discard whatever the output folder holds instead of resuming it.</summary>
    public bool Restart { get; init; }
    /// <summary>
    /// The model's <see cref="Loading.Checkpoint.WeightsFingerprint"/>, recorded in the job: a resume or merge then
    /// refuses weights changed under the same path and config. Null records none.
    /// </summary>
    public string? Weights { get; init; }
    public TextWriter? Log { get; init; }
    /// <summary>
    /// The least time between two saves of the state, each made after a chunk. Null (the default): five seconds, or
    /// twenty times what the last save took where that is longer, so that saving costs at most a twentieth of the run
    /// however large the statistics are. Zero: after every chunk.
    /// </summary>
    public TimeSpan? CheckpointEvery { get; init; }
    /// <summary>Test hook: called at each stage with the sequences done; throwing from it simulates a kill there.</summary>
    internal Action<CaptureStage, int>? Hook { get; init; }
}

/// <summary>
/// A capture that survives being killed: the sequences (of one shard) are counted chunk by chunk, and after a chunk
/// (as often as <see cref="ResumableCaptureOptions.CheckpointEvery"/> allows) the collector's whole state is saved to
/// <c>OUT/partial/NNNNNNNNNN</c> and then <see cref="CaptureProgress"/> is rewritten to point at it. A rerun with the same job resumes from the last saved chunk with
/// <see cref="NeuronStatsCollector.Resume"/> and ends with statistics byte-identical to an uninterrupted run; a rerun
/// with another job is refused, naming each field that differs. Final statistics are saved in OUT itself.
/// </summary>
public static class ResumableCapture
{
    const string PartialFolder = "partial";

    public static NeuronStats Run(ICaptureEngine engine, IReadOnlyList<long[]> sequences, CaptureSettings settings, StatsSource source,
                                  string output, ResumableCaptureOptions? options = null)
    {
        options ??= new ResumableCaptureOptions();
        settings = settings.Resolve(engine.Config, sequences);
        var (start, end) = options.Shard.Range(sequences.Count);
        var job = CaptureJob.For(engine, sequences, settings, source, options.Shard, options.Weights);
        var previous = options.Restart ? null : CaptureProgress.Read(output);
        if (previous is not null && job.Differences(previous.Job) is { Count: > 0 } differences)
            throw new InvalidOperationException($"{output} holds a capture of another job (this run vs the saved one: {string.Join("; ", differences)}); " +
                                                ((job with { BatchSize = previous.Job.BatchSize }).Differences(previous.Job).Count == 0
                                                    ? $"give --batch-size {previous.Job.BatchSize} to resume it, or pass --restart to discard it."
                                                    : "pass --restart to discard it, or choose another output folder."));
        if (previous is { Complete: true })
        {
            options.Log?.WriteLine($"capture: {output} already holds this job's finished statistics.");
            return NeuronStats.Load(output);
        }
        if (options.Restart) Discard(output);

        var checkpoint = previous?.Checkpoint;
        int done = checkpoint is null ? 0 : previous!.SequencesDone;
        using var collector = checkpoint is null ? NeuronCapture.NewCollector(engine, settings)
                                                 : NeuronStatsCollector.Resume(Checkpointed(output, checkpoint, end - start, done), engine.Device);
        var progress = new CaptureProgress { Job = job, SequencesDone = done, ShardSequences = end - start, Checkpoint = checkpoint };
        progress.Write(output);   // before the first chunk, so a rerun with another job is refused from the start
        RemoveCheckpointsExcept(output, checkpoint);
        RemoveTemporaries(output);
        if (done > 0) options.Log?.WriteLine($"capture: resuming {output} after {done} of {end - start} sequences.");

        var reporter = options.Log is null ? null : new ProgressReporter(Enumerable.Range(start + done, end - start - done).Sum(i => (long)sequences[i].Length), options.Log);
        var sinceSave = Stopwatch.StartNew();
        var saveTook = TimeSpan.Zero;
        foreach (var chunk in NeuronCapture.Chunks(sequences, start + done, end, settings))
        {
            long tokens = NeuronCapture.RunChunk(engine, collector, chunk, settings);
            done += chunk.Count;
            options.Hook?.Invoke(CaptureStage.ChunkCounted, done);
            var wait = options.CheckpointEvery ?? TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(5).Ticks, 20 * saveTook.Ticks));
            if (done < end - start && sinceSave.Elapsed >= wait)
            {
                var saving = Stopwatch.StartNew();
                progress = SaveCheckpoint(collector.Result(source), progress with { SequencesDone = done }, output, options);
                saveTook = saving.Elapsed;
                sinceSave.Restart();
            }
            reporter?.Add(tokens);
        }
        if (reporter is not null)
        {
            double counting = collector.CountingTime.TotalSeconds;   // a resumed collector's clock starts at the resume
            string where = engine.Device.type == TorchSharp.DeviceType.CPU ? "" : " (the host's part only: device kernels run asynchronously)";
            options.Log!.WriteLine($"capture: the statistics took {counting:F1} s of this run's {reporter.Seconds:F1} s " +
                                   $"({100 * counting / Math.Max(reporter.Seconds, 1e-9):F1} %){where}.");
        }
        var result = collector.Result(source);
        result.Save(output);
        options.Hook?.Invoke(CaptureStage.FinalSaved, done);
        (progress with { SequencesDone = done, Checkpoint = null, Complete = true }).Write(output);
        RemoveCheckpointsExcept(output, null);
        return result;
    }

    /// <summary>
    /// The checkpoint's statistics, checked to hold exactly the first <paramref name="done"/> sequences of the shard's
    /// <paramref name="shardSequences"/> (every sequence counts: the capture refuses empty ones).
    /// </summary>
    static NeuronStats Checkpointed(string output, string checkpoint, int shardSequences, int done)
    {
        var saved = NeuronStats.Load(Path.Combine(output, checkpoint));
        if (done > shardSequences || saved.SequenceCount != done)
            throw new InvalidDataException($"{Path.Combine(output, CaptureProgress.FileName)} says {done} of the shard's {shardSequences} sequences are done, " +
                                           $"but its checkpoint {checkpoint} counted {saved.SequenceCount}; the folder was edited or damaged: pass --restart.");
        return saved;
    }

    static CaptureProgress SaveCheckpoint(NeuronStats state, CaptureProgress progress, string output, ResumableCaptureOptions options)
    {
        var folder = Path.Combine(PartialFolder, progress.SequencesDone.ToString("D10", System.Globalization.CultureInfo.InvariantCulture));
        state.Save(Path.Combine(output, folder));
        options.Hook?.Invoke(CaptureStage.CheckpointSaved, progress.SequencesDone);
        progress = progress with { Checkpoint = folder };
        progress.Write(output);
        options.Hook?.Invoke(CaptureStage.ProgressWritten, progress.SequencesDone);
        RemoveCheckpointsExcept(output, folder);
        return progress;
    }

    /// <summary>Deletes checkpoints that capture.json does not point to: older ones, and any a kill left half-written.</summary>
    static void RemoveCheckpointsExcept(string output, string? keep)
    {
        var partial = Path.Combine(output, PartialFolder);
        if (!Directory.Exists(partial)) return;
        var kept = keep is null ? null : Path.GetFullPath(Path.Combine(output, keep));
        foreach (var dir in Directory.EnumerateDirectories(partial))
            if (Path.GetFullPath(dir) != kept) Directory.Delete(dir, recursive: true);
        if (keep is null) Directory.Delete(partial, recursive: true);
    }

    /// <summary>
    /// Deletes the temporary files a kill left mid-write (<see cref="AtomicFile"/>: NAME.PID.GUID.tmp beside the output's
    /// own files), which no run reads and which can be as large as the statistics.
    /// </summary>
    static void RemoveTemporaries(string output)
    {
        string[] ours = [CaptureProgress.FileName, NeuronStats.ManifestFile, NeuronStats.TensorsFile, ActivationDump.ActivationsFile, ActivationDump.LogitsFile];
        foreach (var file in Directory.EnumerateFiles(output, "*.tmp"))
            if (ours.Any(name => AtomicFile.IsTemporaryOf(Path.GetFileName(file), name))) File.Delete(file);
    }

    /// <summary>
    /// --restart: the progress file first (so a kill midway leaves nothing that looks resumable), then the rest, the
    /// previous job's activations and logits included, so nothing of it is left beside the new statistics.
    /// </summary>
    static void Discard(string output)
    {
        if (!Directory.Exists(output)) return;
        File.Delete(Path.Combine(output, CaptureProgress.FileName));
        RemoveCheckpointsExcept(output, null);
        File.Delete(Path.Combine(output, NeuronStats.ManifestFile));
        File.Delete(Path.Combine(output, NeuronStats.TensorsFile));
        File.Delete(Path.Combine(output, ActivationDump.ActivationsFile));
        File.Delete(Path.Combine(output, ActivationDump.LogitsFile));
    }
}
