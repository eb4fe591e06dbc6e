using OptNeurons.Hub;

namespace OptNeurons.Corpus;

public sealed partial record Recipe
{
    /// <summary>
    /// The download delegate for <see cref="Resolve"/> and <see cref="Build"/> that fetches dataset files through the
    /// hub client into the shared HuggingFace cache (so Python sees them too). <paramref name="options"/> sets the
    /// cache, token, offline mode and progress; each part's own revision replaces its Revision.
    /// </summary>
    public static Func<string, string, string, string> HubDownloader(HubOptions? options = null) =>
        (repo, revision, path) => HubFile.Download($"datasets/{repo}", path, (options ?? new HubOptions()) with { Revision = revision });

    /// <summary>
    /// The recipe's parts as corpora over local files. <paramref name="download"/>(repoId, revision, path) returns the
    /// local path of a dataset file (the hub client's job; a fake in tests); it is called once per distinct file, in
    /// the order parts and files are listed. Each corpus is labelled with its hub address, not the local path, so the
    /// spec reads the same on every machine.
    /// </summary>
    public IReadOnlyList<CorpusPart> Resolve(Func<string, string, string, string> download)
    {
        var local = new Dictionary<(string, string, string), string>();
        string Fetch(RecipePart p, string file) =>
            local.TryGetValue((p.Repo, p.Revision, file), out var path) ? path : local[(p.Repo, p.Revision, file)] = download(p.Repo, p.Revision, file);
        return Parts.Select(p => new CorpusPart(Open(p, p.Files.Select(f => Fetch(p, f)).ToList()), p.Share)).ToList();
    }

    /// <summary>
    /// Resolves, samples <see cref="TokenBudget"/> tokens with <paramref name="seed"/> and packs them. Fails when a part
    /// holds fewer tokens than its share: the recipe promises its budget ("over 5M tokens"), so a short source is an
    /// error, not a silently smaller dataset.
    /// </summary>
    public CorpusSequences Build(Func<string, string, string, string> download, Func<string, IReadOnlyList<int>> tokenize, int bosId, long seed, PackingOptions packing)
    {
        var built = CorpusBuilder.Build(Resolve(download), tokenize, bosId, TokenBudget, seed, packing);
        if (built.Spec.Sources.FirstOrDefault(s => s.Tokens < s.Budget) is { } shortSource)
            throw new InvalidDataException($"recipe {Name}: {shortSource.Source} holds only {shortSource.Tokens:N0} usable tokens of the {shortSource.Budget:N0} its share needs.");
        return built;
    }

    static ICorpus Open(RecipePart p, IReadOnlyList<string> localFiles)
    {
        ICorpus corpus = Corpora.Concat(localFiles.Select(f => p.Format switch
        {
            RecipeFormat.Jsonl => new JsonLinesCorpus(f, p.TextField, p.Where),
            RecipeFormat.Parquet => new ParquetCorpus(f, p.TextField),
            _ => (ICorpus)new TextCorpus(f),
        }).ToList());
        string label = $"{p.Name} (hf:{p.Repo}@{p.Revision}:{string.Join("+", p.Files)}[{p.TextField}]" + (p.Where is null ? "" : $" where {p.Where}");
        if (p.ExcludeTexts is { Count: > 0 } exclude)
        {
            corpus = corpus.ExceptTexts(exclude);
            label += $" except [{string.Join(", ", exclude)}]";
        }
        if (p.MaxDocuments is int max)
        {
            corpus = corpus.Take(max);
            label += $", first {max} documents";
        }
        return corpus.Labeled(label + ")");
    }
}
