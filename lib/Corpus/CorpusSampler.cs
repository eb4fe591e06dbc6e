namespace OptNeurons.Corpus;

/// <summary>A sampled document's token ids (no BOS), possibly cut short by the budget.</summary>
public sealed record TokenizedDocument(string Id, int[] Tokens);

/// <summary>The documents chosen for a budget; <see cref="Exhausted"/> when the corpus ran out before the budget did.</summary>
public sealed record CorpusSample(IReadOnlyList<TokenizedDocument> Documents, long Tokens, long Budget, bool Exhausted);

/// <summary>
/// Seeded sampling of whole documents to a token budget. The rule, exactly:
/// <list type="number">
/// <item>Read every document of the corpus, in its (deterministic) order, into memory (so give it a shard, not 50 GB).</item>
/// <item>Visit the documents in the order of a Fisher–Yates permutation drawn from <see cref="SplitMix64"/>(seed).</item>
/// <item>Tokenize each visited document (ids without BOS). Skip it if it has fewer than <c>minDocumentTokens</c>
///   tokens (at least 1): skipped documents do not count.</item>
/// <item>Take it whole while the running total stays below the budget; the document that reaches the budget is cut
///   to its first tokens so that the sample holds exactly <c>budget</c> tokens, and sampling stops.</item>
/// </list>
/// So the same seed, corpus and tokenizer give the same token ids on every machine.
/// </summary>
public static class CorpusSampler
{
    public static CorpusSample Sample(ICorpus corpus, Func<string, IReadOnlyList<int>> tokenize, long tokenBudget, long seed, int minDocumentTokens = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokenBudget);
        var documents = corpus.Documents().ToList();
        if (documents.Count == 0) throw new InvalidDataException($"{corpus.Source}: the corpus holds no documents.");
        var chosen = new List<TokenizedDocument>();
        long total = 0;
        foreach (int index in new SplitMix64(unchecked((ulong)seed)).Permutation(documents.Count))
        {
            var tokens = tokenize(documents[index].Text);
            if (tokens.Count < Math.Max(1, minDocumentTokens)) continue;
            int take = (int)Math.Min(tokens.Count, tokenBudget - total);
            chosen.Add(new TokenizedDocument(documents[index].Id, tokens.Take(take).ToArray()));
            total += take;
            if (total == tokenBudget) return new CorpusSample(chosen, total, tokenBudget, Exhausted: false);
        }
        if (chosen.Count == 0)
            throw new InvalidDataException($"{corpus.Source}: none of its {documents.Count} documents has at least {Math.Max(1, minDocumentTokens)} tokens.");
        return new CorpusSample(chosen, total, tokenBudget, Exhausted: true);
    }
}
