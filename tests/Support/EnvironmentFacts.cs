namespace OptNeurons.Tests.Support;

/// <summary>
/// Finds a local facebook/opt-125m snapshot: <c>$OPTNEURONS_OPT125M</c> first, then the HF hub cache
/// (<c>$HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else <c>~/.cache/huggingface/hub</c>), preferring the snapshot
/// that <c>refs/main</c> names. Nothing is downloaded.
/// </summary>
public static class Opt125mSnapshot
{
    public const string EnvVar = "OPTNEURONS_OPT125M";
    const string RepoFolder = "models--facebook--opt-125m";

    /// <summary>The first candidate folder holding every file in <paramref name="requiredFiles"/>, or null.</summary>
    public static string? Find(params string[] requiredFiles) =>
        Candidates().FirstOrDefault(dir => requiredFiles.All(f => File.Exists(Path.Combine(dir, f))));

    /// <summary>Where <see cref="Find"/> looks, for skip messages.</summary>
    public static string Description =>
        $"${EnvVar} ({Environment.GetEnvironmentVariable(EnvVar) ?? "unset"}), then {Path.Combine(HubCache(), RepoFolder, "snapshots", "*")}";

    static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable(EnvVar) is { Length: > 0 } explicitDir) yield return explicitDir;
        var repo = Path.Combine(HubCache(), RepoFolder);
        var snapshots = Path.Combine(repo, "snapshots");
        if (!Directory.Exists(snapshots)) yield break;
        var main = Path.Combine(repo, "refs", "main");
        if (File.Exists(main)) yield return Path.Combine(snapshots, File.ReadAllText(main).Trim());
        foreach (var dir in Directory.GetDirectories(snapshots).Order(StringComparer.Ordinal)) yield return dir;
    }

    // Same order as huggingface_hub's constants.py: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, then $HF_HOME/hub.
    static string HubCache()
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        var home = Env("HF_HOME")
            ?? Path.Combine(Env("XDG_CACHE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "huggingface");
        return Env("HF_HUB_CACHE") ?? Env("HUGGINGFACE_HUB_CACHE") ?? Path.Combine(home, "hub");
    }
}

/// <summary>
/// A fact that needs real facebook/opt-125m files (tier 2). Without them it is reported as skipped, saying where it
/// looked. With no file named it asks for config.json.
/// </summary>
public sealed class CheckpointFactAttribute : FactAttribute
{
    public CheckpointFactAttribute(params string[] requiredFiles)
    {
        RequiredFiles = requiredFiles.Length > 0 ? requiredFiles : ["config.json"];
        if (Opt125mSnapshot.Find([.. RequiredFiles]) is null)
            Skip = $"No facebook/opt-125m snapshot with {string.Join(", ", RequiredFiles)}: looked in {Opt125mSnapshot.Description}.";
    }

    public IReadOnlyList<string> RequiredFiles { get; }
}
