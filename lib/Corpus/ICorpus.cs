namespace OptNeurons.Corpus;

/// <summary>One document of a corpus: where it came from (file, line or row) and its text.</summary>
public sealed record Document(string Id, string Text);

/// <summary>
/// An ordered, deterministic stream of documents: enumerating it twice on any machine gives the same documents in the
/// same order, which is what makes seeded sampling reproducible.
/// </summary>
public interface ICorpus
{
    /// <summary>One line saying what the documents are (format, file, field, filters), for logs and manifests.</summary>
    string Source { get; }

    IEnumerable<Document> Documents();
}

/// <summary>Combinators over corpora; each keeps the order of its inputs, so the result stays deterministic.</summary>
public static class Corpora
{
    /// <summary>The documents of each corpus in turn (e.g. a validation file, then a test file).</summary>
    public static ICorpus Concat(IReadOnlyList<ICorpus> corpora) => corpora.Count == 1 ? corpora[0]
        : new Derived(string.Join(" + ", corpora.Select(c => c.Source)), () => corpora.SelectMany(c => c.Documents()));

    /// <summary>Only the documents whose text is not one of <paramref name="texts"/> (e.g. Reddit's "[deleted]").</summary>
    public static ICorpus ExceptTexts(this ICorpus corpus, IReadOnlyCollection<string> texts)
    {
        var set = texts.ToHashSet(StringComparer.Ordinal);
        return new Derived($"{corpus.Source} except texts [{string.Join(", ", texts)}]", () => corpus.Documents().Where(d => !set.Contains(d.Text)));
    }

    /// <summary>The first <paramref name="count"/> documents in file order: bounds memory on a huge file.</summary>
    public static ICorpus Take(this ICorpus corpus, int count) =>
        new Derived($"{corpus.Source} first {count} documents", () => corpus.Documents().Take(count));

    /// <summary>The same documents under another description, e.g. the hub address instead of a local cache path.</summary>
    public static ICorpus Labeled(this ICorpus corpus, string source) => new Derived(source, corpus.Documents);

    sealed class Derived(string source, Func<IEnumerable<Document>> documents) : ICorpus
    {
        public string Source => source;
        public IEnumerable<Document> Documents() => documents();
    }
}
