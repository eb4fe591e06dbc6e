namespace OptNeurons.Notebooks;

/// <summary>What to run and where to write it. Settings for the notebooks travel as environment variables.</summary>
public sealed record RunOptions
{
    /// <summary>The folder holding NN-*.dib (and _setup.dib).</summary>
    public required string NotebooksDirectory { get; init; }

    /// <summary>Where the .ipynb, .html and index.html go (created if needed).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Run only notebooks whose name (without .dib) equals or starts with one of these ("00", "00-does-our").</summary>
    public IReadOnlyList<string> Only { get; init; } = [];

    /// <summary>
    /// Environment variables set while the notebooks run (e.g. OPTNEURONS_MODEL), restored afterwards. The runner adds
    /// OPTNEURONS_BIN and OPTNEURONS_REPO itself.
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The repository, for notebooks that read its files; found from the notebooks folder upwards when null.</summary>
    public string? RepoRoot { get; init; }

    /// <summary>Progress lines ("00-x: cell 3/20 …"); null for silence.</summary>
    public TextWriter? Log { get; init; }
}
