using System.Globalization;

namespace OptNeurons.Corpus;

/// <summary>What one source contributed: its share and budget, and the tokens and documents actually sampled.</summary>
public sealed record CorpusSourceSpec(string Source, double Share, long Budget, long Tokens, int Documents);

/// <summary>
/// What a set of sequences was made from and how: enough to rebuild it (sources, budget, seed, tokenizer's BOS id,
/// sequence length, packing) plus what came out (tokens sampled, sequences, positions filled). <see cref="Describe"/>
/// says it in one line, which the statistics manifest records as its data and captures log.
/// </summary>
public sealed record CorpusSpec(
    IReadOnlyList<CorpusSourceSpec> Sources, long TokenBudget, long Seed, int BosId, int SequenceLength, Packing Packing,
    bool FullLengthOnly, long Tokens, int Sequences, long Positions)
{
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
