using System.Text.Json;

namespace OptNeurons.Findings;

/// <summary>
/// The <c>expected/</c> folder beside a reference checkpoint (tests/Fixtures/opt-tiny-pre-ln): inputs, and the logits
/// and neuron counts that an independent implementation (HuggingFace transformers, float32) computed from them.
/// </summary>
public sealed class ReferenceFixture
{
    ReferenceFixture(string directory) => Directory = directory;

    /// <summary>The expected/ folder.</summary>
    public string Directory { get; }

    /// <summary>The reference batch (unpadded, right- and left-padded rows): token ids and attention mask, [B][T].</summary>
    public (long[][] Ids, long[][] Mask) Batch { get; private init; }

    /// <summary>The sequences behind the expected neuron counts (each starts with BOS).</summary>
    public IReadOnlyList<long[]> StatsSequences { get; private init; } = [];

    /// <summary>Expected logits, row-major [B, T, V], and their shape.</summary>
    public float[] Logits { get; private init; } = [];
    public long[] LogitsShape { get; private init; } = [];

    /// <summary>Per layer, how many neurons never fired (&gt; 0) on <see cref="StatsSequences"/>.</summary>
    public IReadOnlyList<int> DeadCounts { get; private init; } = [];

    /// <summary>Tokens counted in the expected statistics (BOS included).</summary>
    public long TotalTokens { get; private init; }

    /// <summary>Reads <paramref name="modelDirectory"/>/expected.</summary>
    public static ReferenceFixture Open(string modelDirectory)
    {
        var dir = Path.Combine(modelDirectory, "expected");
        if (!File.Exists(Path.Combine(dir, "manifest.json")))
            throw new DirectoryNotFoundException($"'{modelDirectory}' has no expected/manifest.json: it is not a reference fixture.");
        using var inputs = Read(dir, "inputs.json");
        using var manifest = Read(dir, "manifest.json");
        using var stats = Read(dir, "stats.json");
        var batch = inputs.RootElement.GetProperty("batch");
        var bytes = File.ReadAllBytes(Path.Combine(dir, "logits.bin"));   // little-endian float32, as the manifest says
        var logits = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, logits, 0, bytes.Length);
        return new ReferenceFixture(dir)
        {
            Batch = (Rows(batch.GetProperty("input_ids")), Rows(batch.GetProperty("attention_mask"))),
            StatsSequences = Rows(inputs.RootElement.GetProperty("stats_sequences")),
            Logits = logits,
            LogitsShape = manifest.RootElement.GetProperty("files").GetProperty("logits.bin").GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
            DeadCounts = stats.RootElement.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("dead_count").GetInt32()).ToArray(),
            TotalTokens = stats.RootElement.GetProperty("total_tokens").GetInt64(),
        };
    }

    static JsonDocument Read(string dir, string file) => JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, file)));

    static long[][] Rows(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
}
