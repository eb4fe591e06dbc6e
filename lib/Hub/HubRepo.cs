using System.Text.RegularExpressions;

namespace OptNeurons.Hub;

public enum HubRepoType { Model, Dataset }

/// <summary>
/// A repository on the Hub: "facebook/opt-125m" is a model, "datasets/org/name" a dataset. It knows the three names
/// a repo goes by: its cache folder (models--org--name), its URL prefix (datasets/) and its API kind (datasets).
/// </summary>
public sealed partial record HubRepo(string Id, HubRepoType Type)
{
    // utils/_validators.py::validate_repo_id, so that ids Python rejects are rejected here too.
    [GeneratedRegex(@"^(\b[\w\-.]+\b/)?\b[\w\-.]{1,96}\b$")]
    private static partial Regex IdShape();

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitShape();

    /// <summary>"org/name" or a canonical "name" is a model; a "datasets/" prefix makes it a dataset.</summary>
    public static HubRepo Parse(string repoId)
    {
        var (id, type) = repoId.StartsWith("datasets/", StringComparison.Ordinal)
            ? (repoId["datasets/".Length..], HubRepoType.Dataset)
            : (repoId, HubRepoType.Model);
        if (!IsValidId(id))
            throw new ArgumentException($"'{repoId}' is not a Hub repo id: expected 'org/name' (letters, digits, '-', '_', '.'; " +
                "no '--' or '..'), optionally prefixed with 'datasets/'.", nameof(repoId));
        return new HubRepo(id, type);
    }

    /// <summary>True for an "org/name" (or "datasets/org/name") id that is not also an existing local directory or file.</summary>
    public static bool IsHubId(string s)
    {
        if (Directory.Exists(s) || File.Exists(s)) return false;
        var id = s.StartsWith("datasets/", StringComparison.Ordinal) ? s["datasets/".Length..] : s;
        return id.Count(c => c == '/') == 1 && IsValidId(id);
    }

    /// <summary>A full 40-hex lower-case commit; short hashes are resolved like branch names, as in huggingface_hub.</summary>
    public static bool IsCommit(string revision) => CommitShape().IsMatch(revision);

    static bool IsValidId(string id) =>
        IdShape().IsMatch(id) && !id.Contains("--", StringComparison.Ordinal) && !id.Contains("..", StringComparison.Ordinal)
        && !id.EndsWith(".git", StringComparison.Ordinal);

    /// <summary>The cache folder: plural type, then the id with '/' replaced by '--', case kept.</summary>
    public string FolderName => $"{ApiKind}--{Id.Replace("/", "--", StringComparison.Ordinal)}";

    internal string ApiKind => Type == HubRepoType.Model ? "models" : "datasets";
    string UrlPrefix => Type == HubRepoType.Model ? "" : "datasets/";

    /// <summary>{endpoint}/[datasets/]{id}/resolve/{revision}/{file}: revision encoded with no safe characters, the file per segment.</summary>
    internal Uri ResolveUrl(string endpoint, string revision, string file) =>
        new($"{endpoint}/{UrlPrefix}{Id}/resolve/{Uri.EscapeDataString(revision)}/{EscapePath(file)}");

    /// <summary>Repo info at a revision; its "sha" is the commit the revision points to.</summary>
    internal Uri RevisionUrl(string endpoint, string revision) =>
        new($"{endpoint}/api/{ApiKind}/{Id}/revision/{Uri.EscapeDataString(revision)}");

    /// <summary>The recursive tree listing at a revision (the Hub pages it through Link: rel="next").</summary>
    internal Uri TreeUrl(string endpoint, string revision) =>
        new($"{endpoint}/api/{ApiKind}/{Id}/tree/{Uri.EscapeDataString(revision)}?recursive=true&expand=false");

    /// <summary>The page a person visits to accept a gated repo's licence.</summary>
    internal string WebUrl(string endpoint) => $"{endpoint}/{UrlPrefix}{Id}";

    // Python's quote(safe="/") keeps only A-Z a-z 0-9 _ . - ~ and '/', which is EscapeDataString per segment.
    static string EscapePath(string file) => string.Join('/', file.Split('/').Select(Uri.EscapeDataString));

    public override string ToString() => UrlPrefix + Id;
}
