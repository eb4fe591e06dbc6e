using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using OptNeurons.Runtime;
using OptNeurons.Stats;

namespace OptNeurons.Capture;

/// <summary>
/// Everything that decides a capture's numbers: the model, the data (by description and by a hash of the sequences),
/// the counting and batching options, the dtypes and the shard. A partial run resumes only under an identical job,
/// and shards merge only when their jobs differ in <see cref="Shard"/> alone. The residual's place, the chunk size and
/// the engine (full-model or layer-streamed) are not part of it: they never change a number.
/// </summary>
public sealed record CaptureJob
{
    public required string Model { get; init; }
    public required string ConfigHash { get; init; }
    /// <summary><see cref="Loading.Checkpoint.WeightsFingerprint"/> of the model's files, where the caller gave it.</summary>
    public string? Weights { get; init; }
    public string? Revision { get; init; }
    /// <summary>The data description of the statistics' manifest, identical for every shard.</summary>
    public required string Data { get; init; }
    /// <summary><see cref="HashSequences"/> of all sequences (every shard's, in order).</summary>
    public required string DataHash { get; init; }
    public required int Sequences { get; init; }
    public long? Seed { get; init; }
    public required int Layers { get; init; }
    public required int MaxLength { get; init; }
    public required int BatchSize { get; init; }
    public required string Padding { get; init; }
    public required string Dtype { get; init; }
    public required string ResidualDtype { get; init; }
    /// <summary>cpu or cuda: kernels differ between them, so their activations may differ in the last bits.</summary>
    public required string Device { get; init; }
    public required StatsOptions Options { get; init; }
    /// <summary>"i/n"; "0/1" for an unsharded run and for merged shards.</summary>
    public required string Shard { get; init; }

    /// <summary>The job of a capture; <paramref name="settings"/> must be resolved (<see cref="CaptureSettings.Resolve"/>).</summary>
    public static CaptureJob For(ICaptureEngine engine, IReadOnlyList<long[]> sequences, CaptureSettings settings, StatsSource source, ShardSpec shard,
                                 string? weights = null) => new()
    {
        Model = source.Model, ConfigHash = source.ConfigHash, Weights = weights, Revision = source.Revision, Data = source.Data,
        DataHash = HashSequences(sequences), Sequences = sequences.Count, Seed = source.Seed,
        Layers = settings.LayerCount!.Value, MaxLength = settings.MaxLength!.Value, BatchSize = settings.BatchSize,
        Padding = settings.Padding.ToString().ToLowerInvariant(), Dtype = TorchRuntime.DtypeName(engine.Dtype),
        ResidualDtype = TorchRuntime.DtypeName(engine.ResidualDtype), Device = engine.Device.type.ToString().ToLowerInvariant(),
        Options = settings.Stats, Shard = shard.ToString(),
    };

    /// <summary>First 16 hex digits of SHA-256 over the sequence count and each sequence's length and int64 ids.</summary>
    public static string HashSequences(IReadOnlyList<long[]> sequences)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(BitConverter.GetBytes((long)sequences.Count));
        foreach (var s in sequences)
        {
            sha.AppendData(BitConverter.GetBytes((long)s.Length));
            sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(s.AsSpan()));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    /// <summary>"field: this vs other" for every field that differs (by its JSON name), optionally ignoring the shard.</summary>
    public IReadOnlyList<string> Differences(CaptureJob other, bool ignoreShard = false)
    {
        var (a, b) = (ToJson(this), ToJson(other));
        return a.Select(p => p.Key).Union(b.Select(p => p.Key))
            .Where(k => !(ignoreShard && k == "shard") && !JsonNode.DeepEquals(a[k], b[k]))
            .Select(k => $"{k}: {Text(a[k])} vs {Text(b[k])}").ToList();
    }

    static JsonObject ToJson(CaptureJob job) => JsonSerializer.SerializeToNode(job, StatsManifest.Json)!.AsObject();

    static string Text(JsonNode? node) => node switch
    {
        null => "(none)",
        JsonObject o when o.ContainsKey("ngram_orders") => JsonSerializer.Deserialize<StatsOptions>(o, StatsManifest.Json)!.Describe(),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };
}
