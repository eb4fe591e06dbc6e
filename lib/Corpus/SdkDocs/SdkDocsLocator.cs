namespace OptNeurons.Corpus;

/// <summary>The XML documentation files of one version of the SDK's reference packs, in the order they are read.</summary>
/// <param name="Packs">"Microsoft.NETCore.App.Ref/10.0.12/net10.0"-style names of the packs used.</param>
public sealed record SdkDocsSource(string SdkRoot, IReadOnlyList<string> Packs, IReadOnlyList<string> Files)
{
    /// <summary>Names the extracted text in the cache: it changes exactly when the packs (so the text) change.</summary>
    public string CacheKey => string.Join("+", Packs.Select(p => p.Replace("Microsoft.", "").Replace('/', '-')));
}

/// <summary>
/// Finds the .NET SDK and the XML API docs in its reference packs (<c>packs/&lt;pack&gt;/&lt;version&gt;/ref/&lt;tfm&gt;/*.xml</c>).
/// Only the two packs every SDK installs on every OS are used (Microsoft.NETCore.App.Ref, Microsoft.AspNetCore.App.Ref;
/// not the Windows-only desktop pack), each at its highest version and target framework, files in ordinal name order:
/// the same SDK gives the same text on every machine.
/// </summary>
public static class SdkDocsLocator
{
    public static readonly IReadOnlyList<string> PackNames = ["Microsoft.NETCore.App.Ref", "Microsoft.AspNetCore.App.Ref"];

    /// <summary>
    /// The SDK root (the folder holding <c>packs/</c>): <c>$DOTNET_ROOT</c>, else the install that runs this process
    /// (three folders above the runtime's <c>System.Private.CoreLib.dll</c>), else the <c>dotnet</c> on PATH
    /// (symlinks followed), which is where <c>dotnet --list-sdks</c> looks. Null when none has a packs folder.
    /// </summary>
    public static string? FindSdkRoot()
    {
        var candidates = new List<string?> { Environment.GetEnvironmentVariable("DOTNET_ROOT") };
        if (Path.GetDirectoryName(typeof(object).Assembly.Location) is { Length: > 0 } runtimeDir)
            candidates.Add(Path.GetFullPath(Path.Combine(runtimeDir, "..", "..", "..")));
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var exe = new FileInfo(Path.Combine(dir, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"));
            if (exe.Exists) candidates.Add(Path.GetDirectoryName(exe.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? exe.FullName));
        }
        return candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && Directory.Exists(Path.Combine(c, "packs")));
    }

    /// <summary>The doc files under <paramref name="sdkRoot"/>, or null when no reference pack there carries XML docs.</summary>
    public static SdkDocsSource? Find(string sdkRoot)
    {
        var packs = new List<string>();
        var files = new List<string>();
        foreach (var pack in PackNames)
        {
            var packDir = Path.Combine(sdkRoot, "packs", pack);
            if (!Directory.Exists(packDir)) continue;
            var best = Directory.EnumerateDirectories(packDir).Select(Path.GetFileName).OfType<string>()
                .SelectMany(version => TargetFrameworks(Path.Combine(packDir, version)).Select(tfm => (version, tfm)))
                .OrderByDescending(v => VersionKey(v.version)).ThenByDescending(v => v.version, StringComparer.Ordinal)
                .ThenByDescending(v => VersionKey(v.tfm[3..])).FirstOrDefault();
            if (best.version is null) continue;
            packs.Add($"{pack}/{best.version}/{best.tfm}");
            files.AddRange(Directory.EnumerateFiles(Path.Combine(packDir, best.version, "ref", best.tfm), "*.xml").Order(StringComparer.Ordinal));
        }
        return packs.Count == 0 ? null : new SdkDocsSource(sdkRoot, packs, files);
    }

    /// <summary>Target-framework folders ("net10.0") of a pack version that hold at least one XML file.</summary>
    static IEnumerable<string> TargetFrameworks(string versionDir)
    {
        var refDir = Path.Combine(versionDir, "ref");
        if (!Directory.Exists(refDir)) return [];
        return Directory.EnumerateDirectories(refDir).Where(d => Directory.EnumerateFiles(d, "*.xml").Any())
            .Select(Path.GetFileName).OfType<string>().Where(t => t.StartsWith("net", StringComparison.Ordinal) && Version.TryParse(t[3..], out _));
    }

    /// <summary>Orders "10.0.12" above "10.0.9", and a release above its previews ("10.0.0" above "10.0.0-rc.1").</summary>
    static (Version, int) VersionKey(string version)
    {
        int dash = version.IndexOf('-');
        var numeric = Version.TryParse(dash < 0 ? version : version[..dash], out var v) ? v : new Version(0, 0);
        return (numeric, dash < 0 ? 1 : 0);
    }
}
