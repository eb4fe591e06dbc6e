using OptNeurons.Capture;

namespace OptNeurons.Cli;

/// <summary>optneurons merge: the outputs of capture --shard 0/n … n-1/n combined into the unsharded run's statistics.</summary>
static class MergeCommand
{
    public const string Help = """
        usage: optneurons merge --out DIR SHARD_DIR...

          Combines the finished outputs of `optneurons capture --shard i/n` (every i from 0 to n-1, any order) into DIR,
          a new or empty folder (a merge stopped midway is said to be so: delete its folder and merge again). Refuses
          shards of different models, data or options, a shard given twice, shards of different n, a missing shard and
          an unfinished one. The result equals the unsharded capture byte for byte while no n-gram summary overflowed;
          the command says whether any did (see docs/scaling.md).
        """;

    public static int Run(IReadOnlyList<string> args)
    {
        string? output = null;
        var shards = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] == "--out")
                output = i + 1 < args.Count ? Arguments.CheckOutputFolder("--out", args[++i]) : throw new ArgumentException("option --out needs a value.");
            else if (args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unknown option(s): {args[i]}.");
            else shards.Add(args[i]);
        }
        if (output is null) throw new ArgumentException("option --out is required.");
        if (shards.Count == 0) throw new ArgumentException("give the shard folders to merge: optneurons merge --out DIR SHARD_DIR...");
        var stats = ShardMerge.Run(shards, output);
        Console.Error.WriteLine($"merge: {shards.Count} shards, {stats.TokenCount:N0} tokens, wrote {output}");
        Console.Error.WriteLine($"merge: {ShardMerge.ExactnessNote(stats)}");
        return 0;
    }
}
