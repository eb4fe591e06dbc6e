using System.Text.Json;
using OptNeurons.Runtime;
using OptNeurons.Stats;

namespace OptNeurons.Capture;

/// <summary>
/// <c>capture.json</c> in a capture's output folder: the job and how far it got. It is written atomically (a temporary
/// file renamed over the old one) and only after the statistics it points to are saved, so at any moment it
/// describes a complete, loadable state: nothing yet, a checkpoint after some chunk, or the finished run. It stays
/// beside the finished statistics as the record of the job (the shard spec lives here, not in the manifest).
/// </summary>
public sealed record CaptureProgress
{
    public const string FileName = "capture.json";

    public required CaptureJob Job { get; init; }
    /// <summary>Sequences of this shard already counted (a multiple of the batch size until the run completes).</summary>
    public required int SequencesDone { get; init; }
    /// <summary>Sequences in this shard.</summary>
    public required int ShardSequences { get; init; }
    /// <summary>Folder (relative to the output) of the statistics after <see cref="SequencesDone"/>; null before the first chunk and once complete.</summary>
    public string? Checkpoint { get; init; }
    /// <summary>The final statistics are in the output folder.</summary>
    public bool Complete { get; init; }
    /// <summary>For merged shards: the shard folders, in shard order.</summary>
    public IReadOnlyList<string>? MergedFrom { get; init; }

    /// <summary>The progress file of <paramref name="directory"/>, or null when there is none.</summary>
    public static CaptureProgress? Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<CaptureProgress>(File.ReadAllText(path), StatsManifest.Json) ?? throw new JsonException("empty"); }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a valid capture progress file ({e.Message}); rerun its capture with --restart to discard the run.", e);
        }
    }

    /// <summary>Writes <see cref="FileName"/> atomically (<see cref="AtomicFile"/>).</summary>
    public void Write(string directory) =>
        AtomicFile.Write(Path.Combine(directory, FileName), file => JsonSerializer.Serialize(file, this, StatsManifest.Json));
}
