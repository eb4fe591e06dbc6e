namespace OptNeurons.Corpus;

/// <summary>A corpus and the share of the token budget it gets.</summary>
public sealed record CorpusPart(ICorpus Corpus, double Share);

/// <summary>How sampled documents are cut: sequence length T (BOS included), packing, and whether only full-length sequences are kept.</summary>
public sealed record PackingOptions(int SequenceLength, Packing Packing = Packing.Concatenated, bool FullLengthOnly = false);

/// <summary>Sequences ready for <see cref="OptNeurons.Data.TokenBatches.Make"/>, and the spec that describes them.</summary>
public sealed record CorpusSequences(IReadOnlyList<long[]> Sequences, CorpusSpec Spec);

/// <summary>
/// Sample every part to its share of the budget, then pack. Part i gets round(share_i × budget) tokens (the last part
/// gets what is left, so budgets add up exactly; rounding, not flooring, so 1/3 of 3,000,000 is 1,000,000) and is sampled with the i-th output of <see cref="SplitMix64"/>(seed).
/// Each part is packed on its own, so no sequence mixes two sources, and parts come in the order given.
/// With <see cref="Packing.PerDocument"/> and full-length-only, documents shorter than T−1 tokens cannot give a
/// sequence, so sampling skips them and the budget is spent on documents that can.
/// </summary>
public static class CorpusBuilder
{
    public static CorpusSequences Build(ICorpus corpus, Func<string, IReadOnlyList<int>> tokenize, int bosId, long tokenBudget, long seed, PackingOptions packing) =>
        Build([new CorpusPart(corpus, 1.0)], tokenize, bosId, tokenBudget, seed, packing);

    public static CorpusSequences Build(IReadOnlyList<CorpusPart> parts, Func<string, IReadOnlyList<int>> tokenize, int bosId, long tokenBudget, long seed, PackingOptions packing)
    {
        if (parts.Count == 0) throw new ArgumentException("at least one corpus part is needed.", nameof(parts));
        if (parts.Any(p => !(p.Share > 0)) || Math.Abs(parts.Sum(p => p.Share) - 1) > 1e-6)
            throw new ArgumentException($"shares must be positive and add up to 1, got {string.Join(" + ", parts.Select(p => p.Share))}.", nameof(parts));
        ArgumentOutOfRangeException.ThrowIfLessThan(tokenBudget, parts.Count);
        int minTokens = packing is { Packing: Packing.PerDocument, FullLengthOnly: true } ? packing.SequenceLength - 1 : 1;
        var seeds = new SplitMix64(unchecked((ulong)seed));
        var sequences = new List<long[]>();
        var sources = new List<CorpusSourceSpec>();
        long left = tokenBudget;
        for (int i = 0; i < parts.Count; i++)
        {
            long budget = i == parts.Count - 1 ? left : (long)Math.Round(parts[i].Share * tokenBudget);
            left -= budget;
            var sample = CorpusSampler.Sample(parts[i].Corpus, tokenize, budget, unchecked((long)seeds.Next()), minTokens);
            sequences.AddRange(SequencePacker.Pack(sample.Documents.Select(d => d.Tokens), bosId, packing.SequenceLength, packing.Packing, packing.FullLengthOnly));
            sources.Add(new CorpusSourceSpec(parts[i].Corpus.Source, parts[i].Share, budget, sample.Tokens, sample.Documents.Count));
        }
        var spec = new CorpusSpec(sources, tokenBudget, seed, bosId, packing.SequenceLength, packing.Packing, packing.FullLengthOnly,
            sources.Sum(s => s.Tokens), sequences.Count, sequences.Sum(s => (long)s.Length));
        return new CorpusSequences(sequences, spec);
    }
}
