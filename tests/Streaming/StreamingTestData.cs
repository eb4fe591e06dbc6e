using OptNeurons.Capture;
using OptNeurons.Loading;
using OptNeurons.Stats;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Streaming;

/// <summary>Checkpoints, sequences and byte-level comparisons shared by the streaming, resume and shard tests.</summary>
internal static class StreamingTestData
{
    /// <summary>A random 5-layer checkpoint (d = 16, F = 32, V = 96, T ≤ 24) written as safetensors under <paramref name="root"/>.</summary>
    /// <param name="shardOf">Writes sharded safetensors instead, each tensor in the shard this gives for its name.</param>
    public static string Generated(string root, int layers = 5, int seed = 7, Func<string, int>? shardOf = null)
    {
        var config = SyntheticWeights.TinyConfig() with
        {
            NumHiddenLayers = layers, HiddenSize = 16, FfnDim = 32, NumAttentionHeads = 4, VocabSize = 96, MaxPositionEmbeddings = 24,
        };
        var weights = SyntheticWeights.Create(config, seed);
        try
        {
            return shardOf is null ? CheckpointWriter.Write(Path.Combine(root, $"generated-{layers}"), weights, config)
                                   : CheckpointWriter.Write(Path.Combine(root, $"generated-{layers}-sharded"), weights, config, CheckpointFormat.SafeTensorsSharded, shardOf: shardOf);
        }
        finally { foreach (var t in weights.Values) t.Dispose(); }
    }

    /// <summary>Seeded sequences of 2 … maxLength tokens, each starting with BOS (id 2).</summary>
    public static List<long[]> Sequences(int count, int vocab, int maxLength, int seed = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
            Enumerable.Range(0, rng.Next(2, maxLength + 1)).Select(i => i == 0 ? 2L : rng.Next(3, vocab)).ToArray()).ToList();
    }

    public static StatsSource Source(Checkpoint checkpoint) => StatsSource.For("generated", checkpoint.Config, "random sequences", seed: 1);

    /// <summary>The two files a save writes, as bytes: what "byte-identical" compares.</summary>
    public static (byte[] Tensors, byte[] Manifest) Bytes(string statsDirectory) =>
        (File.ReadAllBytes(Path.Combine(statsDirectory, NeuronStats.TensorsFile)), File.ReadAllBytes(Path.Combine(statsDirectory, NeuronStats.ManifestFile)));

    public static (byte[] Tensors, byte[] Manifest) Bytes(NeuronStats stats)
    {
        using var dir = new TempDirectory();
        stats.Save(dir.Path);
        return Bytes(dir.Path);
    }

    public static void AssertSameBytes((byte[] Tensors, byte[] Manifest) expected, (byte[] Tensors, byte[] Manifest) actual)
    {
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected.Manifest), System.Text.Encoding.UTF8.GetString(actual.Manifest));
        Assert.True(expected.Tensors.AsSpan().SequenceEqual(actual.Tensors), $"stats.safetensors differ ({expected.Tensors.Length} vs {actual.Tensors.Length} bytes)");
    }

    /// <summary>Settings that exercise padding (varied lengths), several batches per chunk and a small sketch.</summary>
    public static CaptureSettings Settings(int? layers = null, int? chunk = 6) => new()
    {
        BatchSize = 3, ChunkSize = chunk, LayerCount = layers, MaxLength = 24,
        Stats = new StatsOptions { SketchCapacity = 4 },   // small enough to overflow: order effects would show
    };
}
