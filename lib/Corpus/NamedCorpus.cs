using OptNeurons.Hub;

namespace OptNeurons.Corpus;

/// <summary>
/// The corpora a capture can name: <c>sdk-docs</c> (the analysis part of the .NET SDK's API documentation, on every
/// machine with the SDK; never seen in training) or a recipe of the paper (<see cref="Recipe.Names"/>, downloaded
/// from the hub and cached).
/// </summary>
public static class NamedCorpus
{
    public const string SdkDocs = "sdk-docs";

    /// <summary>Default token budget of <c>sdk-docs</c>: all of its analysis part (about 0.31 M tokens).</summary>
    public const long WholeCorpus = long.MaxValue;

    public static IReadOnlyList<string> Names => [SdkDocs, .. Recipe.Names];

    /// <summary>
    /// <see cref="Build"/> with the tokenizer of a model folder, packed concatenated into BOS-first sequences of
    /// <paramref name="sequenceLength"/> tokens: what the capture command, the notebooks and the model cards count on.
    /// </summary>
    public static CorpusSequences ForModel(string name, string modelDirectory, int sequenceLength, long seed, bool fullLengthOnly,
                                           long tokenBudget = WholeCorpus, HubOptions? hub = null)
    {
        var tokenizer = Tokenization.OptTokenizer.FromDirectory(modelDirectory);
        return Build(name, text => tokenizer.Encode(text, addBos: false), tokenizer.BosId, seed,
                     new PackingOptions(sequenceLength, Packing.Concatenated, fullLengthOnly), tokenBudget, hub);
    }

    /// <param name="tokenBudget">Tokens to sample for sdk-docs (recipes carry their own budget).</param>
    public static CorpusSequences Build(string name, Func<string, IReadOnlyList<int>> tokenize, int bosId, long seed,
                                        PackingOptions packing, long tokenBudget = WholeCorpus, HubOptions? hub = null)
    {
        if (name == SdkDocs)
            return CorpusBuilder.Build(SdkDocsCorpus.Open(SdkDocsPart.Analysis), tokenize, bosId, tokenBudget, seed, packing);
        if (!Recipe.Names.Contains(name))
            throw new ArgumentException($"unknown corpus '{name}'; expected one of: {string.Join(", ", Names)}.");
        return Recipe.Named(name).Build(Recipe.HubDownloader(hub), tokenize, bosId, seed, packing);
    }
}
