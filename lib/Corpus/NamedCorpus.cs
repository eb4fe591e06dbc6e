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

    /// <summary>
    /// The token budget that asks for a corpus's own: all of <c>sdk-docs</c>'s analysis part (about 0.31 M tokens), or
    /// a recipe's <c>token_budget</c>.
    /// </summary>
    public const long DefaultBudget = long.MaxValue;

    public static IReadOnlyList<string> Names => [SdkDocs, .. Recipe.Names];

    /// <summary>
    /// <see cref="Build"/> with the tokenizer of a model folder, packed concatenated into BOS-first sequences of
    /// <paramref name="sequenceLength"/> tokens: what the capture command, the notebooks and the model cards count on.
    /// </summary>
    public static CorpusSequences ForModel(string name, string modelDirectory, int sequenceLength, long seed, bool fullLengthOnly,
                                           long tokenBudget = DefaultBudget, HubOptions? hub = null)
    {
        var tokenizer = Tokenization.OptTokenizer.FromDirectory(modelDirectory);
        return Build(name, text => tokenizer.Encode(text, addBos: false), tokenizer.BosId, seed,
                     new PackingOptions(sequenceLength, Packing.Concatenated, fullLengthOnly), tokenBudget, hub);
    }

    /// <param name="tokenBudget">
    /// Tokens to sample. For a recipe it replaces the recipe's budget, each part keeping its share: a smaller run of the
    /// same mixture (a short source still fails, see <see cref="Recipe.Build"/>).
    /// </param>
    public static CorpusSequences Build(string name, Func<string, IReadOnlyList<int>> tokenize, int bosId, long seed,
                                        PackingOptions packing, long tokenBudget = DefaultBudget, HubOptions? hub = null)
    {
        if (name == SdkDocs)
            return CorpusBuilder.Build(SdkDocsCorpus.Open(SdkDocsPart.Analysis), tokenize, bosId, tokenBudget, seed, packing);
        if (!Recipe.Names.Contains(name))
            throw new ArgumentException($"unknown corpus '{name}'; expected one of: {string.Join(", ", Names)}.");
        var recipe = Recipe.Named(name);
        if (tokenBudget != DefaultBudget) recipe = recipe with { TokenBudget = tokenBudget };
        return recipe.Build(Recipe.HubDownloader(hub), tokenize, bosId, seed, packing);
    }
}
