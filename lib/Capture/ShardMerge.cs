using OptNeurons.Runtime;
using OptNeurons.Stats;

namespace OptNeurons.Capture;

/// <summary>
/// Combines the outputs of shards 0/n … n-1/n of one job into the statistics of the unsharded run. Exact counts add,
/// so they always equal the unsharded run; the n-gram summaries merge by the Misra–Gries rule and equal it exactly
/// when no summary overflowed (every neuron saw at most K distinct n-grams of each order). Where one did, the merged
/// summary still bounds every count within its error, but differs from a single pass.
/// </summary>
public static class ShardMerge
{
    /// <summary>
    /// Checks, loads and merges the shard folders (any order) and saves the result, with a <see cref="CaptureProgress"/>
    /// of the unsharded job, to <paramref name="output"/>. Refuses, naming folders and values: a folder that is not a
    /// finished capture, shards of different jobs (model, data, options), shards of different n, a shard given twice,
    /// a missing shard, and an output folder that is not empty (one of the shards, or anything else it would replace).
    /// </summary>
    public static NeuronStats Run(IReadOnlyList<string> shardDirectories, string output)
    {
        if (shardDirectories.Count == 0) throw new ArgumentException("give at least one shard folder to merge.");
        if (shardDirectories.FirstOrDefault(d => SameFolder(d, output)) is { } input)
            throw new ArgumentException($"the output folder {output} is the shard {input}: merge into a new folder, so that no shard is replaced.");
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new ArgumentException(InterruptedMerge(output)
                ? $"the output folder {output} holds a merge that was stopped before it finished (its {CaptureProgress.FileName} is missing or unfinished): delete the folder and merge again."
                : $"the output folder {output} is not empty: merge into a new or empty folder, so that nothing in it is replaced.");
        var shards = shardDirectories.Select(dir => (Dir: dir, Progress: Finished(dir))).ToList();
        var first = shards[0];
        foreach (var s in shards.Skip(1))
            if (s.Progress.Job.Differences(first.Progress.Job, ignoreShard: true) is { Count: > 0 } d)
                throw new ArgumentException($"{s.Dir} and {first.Dir} are shards of different jobs ({string.Join("; ", d)}).");

        var specs = shards.Select(s => (s.Dir, Spec: ShardSpec.Parse(s.Progress.Job.Shard))).ToList();
        int n = specs[0].Spec.Count;
        var otherCount = specs.FirstOrDefault(s => s.Spec.Count != n);
        if (otherCount.Dir is not null)
            throw new ArgumentException($"shards overlap: {first.Dir} is shard {specs[0].Spec} but {otherCount.Dir} is shard {otherCount.Spec}; merge shards of one split (the same n).");
        foreach (var group in specs.GroupBy(s => s.Spec.Index).Where(g => g.Count() > 1))
            throw new ArgumentException($"shards overlap: shard {group.Key}/{n} is given twice ({string.Join(", ", group.Select(g => g.Dir))}).");
        var missing = Enumerable.Range(0, n).Except(specs.Select(s => s.Spec.Index)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"shard{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Select(i => $"{i}/{n}"))} missing: the merge would not cover the data.");

        var ordered = specs.OrderBy(s => s.Spec.Index).Select(s => s.Dir).ToList();
        var merged = NeuronStats.Load(ordered[0]);
        foreach (var dir in ordered.Skip(1)) merged = NeuronStats.Merge(merged, NeuronStats.Load(dir));
        // Every shard's manifest describes the whole data (the shard spec lives in capture.json), so the merged
        // manifest keeps that description instead of Merge's "a + b": it then equals the unsharded run's.
        merged = merged.WithData(first.Progress.Job.Data);
        merged.Save(output);
        var job = first.Progress.Job with { Shard = ShardSpec.Whole.ToString() };
        new CaptureProgress
        {
            Job = job, SequencesDone = job.Sequences, ShardSequences = job.Sequences, Complete = true,
            MergedFrom = ordered.Select(Path.GetFullPath).ToList(),
        }.Write(output);
        return merged;
    }

    static bool SameFolder(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);

    /// <summary>
    /// Whether the merged statistics equal the unsharded run's byte for byte, for the merge command to print: yes when
    /// no n-gram summary overflowed; otherwise how many neurons' summaries did, per order, and what gives byte equality.
    /// </summary>
    public static string ExactnessNote(NeuronStats merged)
    {
        var overflowed = merged.Options.NgramOrders.Select(n => (n, Count: merged.OverflowedSummaries(n))).Where(o => o.Count > 0).ToList();
        int k = merged.Options.SketchCapacity;
        if (overflowed.Count == 0)
            return $"no n-gram summary overflowed (K = {k}): the result equals the unsharded capture byte for byte.";
        int neurons = merged.Layers.Count * merged.FfnDim;
        return $"n-gram summaries that overflowed (more than K = {k} distinct n-grams): " +
               string.Join(", ", overflowed.Select(o => $"{o.n}-grams in {o.Count:N0}")) + $" of {neurons:N0} neurons. " +
               "Those summaries stay within their recorded errors but may differ from a single pass; every other " +
               "statistic equals the unsharded capture. A --sketch-capacity that no summary outgrows makes them equal too.";
    }

    /// <summary>Whether a folder holds only what a merge writes, without the finished progress file it writes last.</summary>
    static bool InterruptedMerge(string dir)
    {
        string[] written = [CaptureProgress.FileName, NeuronStats.ManifestFile, NeuronStats.TensorsFile];
        bool onlyOurs = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName)
            .All(name => written.Any(w => name == w || AtomicFile.IsTemporaryOf(name!, w)));
        if (!onlyOurs) return false;
        try { return CaptureProgress.Read(dir) is not { Complete: true }; }
        catch (InvalidDataException) { return true; }
    }

    static CaptureProgress Finished(string dir)
    {
        if (!Directory.Exists(dir)) throw new ArgumentException($"{dir}: no such shard folder.");
        var progress = CaptureProgress.Read(dir)
            ?? throw new ArgumentException($"{dir} has no {CaptureProgress.FileName}: not the output of a capture run.");
        if (!progress.Complete)
            throw new ArgumentException($"{dir} is an unfinished shard ({progress.SequencesDone} of {progress.ShardSequences} sequences); rerun its capture to finish it.");
        return progress;
    }
}
