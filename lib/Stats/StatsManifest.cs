using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using OptNeurons.Model;

namespace OptNeurons.Stats;

/// <summary>Where statistics came from: the model, its revision, the data and the seed that chose the data.</summary>
/// <param name="Model">HuggingFace id ("facebook/opt-125m") or local path of the model.</param>
/// <param name="ConfigHash">The model's <see cref="OptConfig.Hash"/>.</param>
/// <param name="Revision">Hub revision (commit) of the weights, if known.</param>
/// <param name="Data">Human-readable description of the inputs (datasets, splits, sequence length).</param>
/// <param name="Seed">The seed that sampled the data, if any.</param>
public sealed record StatsSource(string Model, string ConfigHash, string? Revision, string Data, long? Seed)
{
    public static StatsSource For(string model, OptConfig config, string data, long? seed, string? revision = null) =>
        new(model, config.Hash, revision, data, seed);

    /// <summary>For synthetic inputs (tests, benchmarks) that no model produced.</summary>
    public static StatsSource Unknown { get; } = new("unknown", "unknown", null, "unspecified", null);
}

/// <summary>
/// Everything needed to interpret and combine saved statistics: provenance, shapes, counting options, versions.
/// Saved as indented <c>manifest.json</c> (snake_case keys) beside <c>stats.safetensors</c>.
/// </summary>
public sealed record StatsManifest
{
    /// <summary>Bumped whenever the saved layout changes; <see cref="NeuronStats.Load"/> reads only this version.</summary>
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;
    public required string Model { get; init; }
    public required string ConfigHash { get; init; }
    public string? Revision { get; init; }
    public required string Data { get; init; }
    public long? Seed { get; init; }
    public required long TokenCount { get; init; }
    public required long SequenceCount { get; init; }
    /// <summary>Model layer numbers, in the order of the rows of every [L, …] array.</summary>
    public required IReadOnlyList<int> Layers { get; init; }
    public required int FfnDim { get; init; }
    /// <summary>T: positions tracked (0 … T-1), the model's max_position_embeddings or less.</summary>
    public required int MaxLength { get; init; }
    public required int VocabSize { get; init; }
    public required StatsOptions Options { get; init; }
    /// <summary>Informational version of the OptNeurons library that counted (with commit, when built from git).</summary>
    public string LibraryVersion { get; init; } = CurrentLibraryVersion;

    public static string CurrentLibraryVersion { get; } =
        typeof(StatsManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,   // "0.1.0+abc", not "0.1.0\u002Babc"; never embedded in HTML
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static StatsManifest FromJson(string json, string source)
    {
        try
        {
            var m = JsonSerializer.Deserialize<StatsManifest>(json, Json) ?? throw new InvalidDataException($"{source}: empty manifest.");
            return m with { Options = m.Options.Validate() };
        }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not a valid statistics manifest ({e.Message}).", e); }
    }

    // Records compare lists by reference; manifests are compared by value after a round trip.
    public bool Equals(StatsManifest? o) =>
        o is not null && FormatVersion == o.FormatVersion && Model == o.Model && ConfigHash == o.ConfigHash &&
        Revision == o.Revision && Data == o.Data && Seed == o.Seed && TokenCount == o.TokenCount &&
        SequenceCount == o.SequenceCount && Layers.SequenceEqual(o.Layers) && FfnDim == o.FfnDim &&
        MaxLength == o.MaxLength && VocabSize == o.VocabSize && Options.Equals(o.Options) && LibraryVersion == o.LibraryVersion;

    public override int GetHashCode() => HashCode.Combine(Model, ConfigHash, TokenCount, FfnDim, MaxLength, Options);
}
