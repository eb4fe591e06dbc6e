using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptNeurons.Corpus;

/// <summary>What one source contributed: its share and budget, and the tokens and documents actually sampled.</summary>
public sealed record CorpusSourceSpec(string Source, double Share, long Budget, long Tokens, int Documents);

/// <summary>
/// What a set of sequences was made from and how: enough to rebuild it (sources, budget, seed, tokenizer's BOS id,
/// sequence length, packing) plus what came out (tokens sampled, sequences, positions filled). It goes into the
/// statistics manifest as JSON (<see cref="ToJson"/>) and into logs as one line (<see cref="Describe"/>).
/// </summary>
public sealed record CorpusSpec(
    IReadOnlyList<CorpusSourceSpec> Sources, long TokenBudget, long Seed, int BosId, int SequenceLength, Packing Packing,
    bool FullLengthOnly, long Tokens, int Sequences, long Positions)
{
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,  // keep "<", ">" and non-ASCII readable in manifests
    };

    public string ToJson(bool indented = false) => JsonSerializer.Serialize(this, new JsonSerializerOptions(Json) { WriteIndented = indented });

    public static CorpusSpec FromJson(string json) =>
        JsonSerializer.Deserialize<CorpusSpec>(json, Json) ?? throw new InvalidDataException("corpus spec JSON is null.");

    /// <summary>E.g. "12 sequences × T=2048 (concatenated, full-length only) from 24,564 of 25,000 tokens, seed 1: 60% text:a.txt, 40% jsonl:b.jsonl[text]".</summary>
    public string Describe()
    {
        var c = CultureInfo.InvariantCulture;
        string mode = Packing == Packing.Concatenated ? "concatenated" : "per document";
        return string.Create(c, $"{Sequences:N0} sequences × T={SequenceLength} ({mode}{(FullLengthOnly ? ", full-length only" : "")}) ")
            + string.Create(c, $"from {Tokens:N0} of {(TokenBudget == long.MaxValue ? "all" : TokenBudget.ToString("N0", c))} tokens, seed {Seed}: ")
            + string.Join(", ", Sources.Select(s => string.Create(c, $"{s.Share * 100:0.##}% {s.Source}")));
    }
}
