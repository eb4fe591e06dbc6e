using System.Text.Json;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Support;

/// <summary>The reference fixture: a tiny OPT checkpoint with logits, activations and counts from an independent implementation.</summary>
public static class Fixtures
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures");
    public static string TinyPreLn => Path.Combine(Root, "opt-tiny-pre-ln");
    static string Expected => Path.Combine(TinyPreLn, "expected");

    /// <summary>The 4×12 reference batch (unpadded, right-padded, left-padded rows).</summary>
    public static (long[][] Ids, long[][] Mask) ReferenceBatch()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Expected, "inputs.json")));
        var batch = doc.RootElement.GetProperty("batch");
        return (Rows(batch.GetProperty("input_ids")), Rows(batch.GetProperty("attention_mask")));
    }

    /// <summary>The sequences behind expected/stats.json.</summary>
    public static long[][] StatsSequences()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Expected, "inputs.json")));
        return Rows(doc.RootElement.GetProperty("stats_sequences"));
    }

    public static JsonDocument ExpectedStats() => JsonDocument.Parse(File.ReadAllText(Path.Combine(Expected, "stats.json")));

    /// <summary>expected/logits.bin [B,T,V] or expected/activations.bin [L,B,T,F], little-endian float32.</summary>
    public static Tensor ExpectedTensor(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Expected, "manifest.json")));
        var shape = doc.RootElement.GetProperty("files").GetProperty(file).GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var bytes = File.ReadAllBytes(Path.Combine(Expected, file));
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return tensor(values).reshape(shape);
    }

    public static Tensor ToTensor(long[][] rows) => tensor(rows.SelectMany(r => r).ToArray()).reshape(rows.Length, rows[0].Length);

    static long[][] Rows(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();

    /// <summary>A temporary folder holding config.json plus the named weight files of the fixture: one weight layout.</summary>
    public static TempDirectory FixtureLayout(params string[] weightFiles)
    {
        var dir = new TempDirectory();
        foreach (var f in weightFiles.Append("config.json")) File.Copy(Path.Combine(TinyPreLn, f), Path.Combine(dir.Path, f));
        return dir;
    }
}
