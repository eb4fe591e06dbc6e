using System.Globalization;

namespace OptNeurons.Capture;

/// <summary>
/// Shard i of n of a capture's sequences: the contiguous block [⌊i·N/n⌋, ⌊(i+1)·N/n⌋) of the N sequences in input
/// order, so shards differ in size by at most one sequence and their union, in index order, is the input.
/// </summary>
public readonly record struct ShardSpec(int Index, int Count)
{
    /// <summary>The whole input (an unsharded run is shard 0/1).</summary>
    public static ShardSpec Whole { get; } = new(0, 1);

    /// <summary>Parses "i/n" with 0 ≤ i &lt; n (Slurm: <c>--shard $SLURM_ARRAY_TASK_ID/8</c>).</summary>
    public static ShardSpec Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && i < n)
            return new ShardSpec(i, n);
        throw new ArgumentException($"shard '{text}' is not i/n with 0 <= i < n (e.g. 0/8 … 7/8).");
    }

    /// <summary>This shard's sequences [Start, End) of <paramref name="total"/>; refuses an empty shard.</summary>
    public (int Start, int End) Range(int total)
    {
        int start = (int)((long)Index * total / Count), end = (int)((long)(Index + 1) * total / Count);
        if (end <= start)
            throw new ArgumentException($"shard {this} of {total} sequences is empty; use at most {total} shards.");
        return (start, end);
    }

    public override string ToString() => $"{Index}/{Count}";
}
