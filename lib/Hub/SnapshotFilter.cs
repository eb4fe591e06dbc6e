using System.Text;
using System.Text.RegularExpressions;

namespace OptNeurons.Hub;

/// <summary>
/// Which files of a snapshot to fetch: allow/ignore patterns as huggingface_hub's utils/_paths.py::filter_repo_objects
/// applies them (a file is kept when it matches at least one allow pattern and no ignore pattern; fnmatchcase, so
/// matching is case-sensitive and '*' also crosses '/'), then optionally transformers' weight choice.
/// </summary>
public sealed record SnapshotFilter(IReadOnlyList<string> Allow, IReadOnlyList<string>? Ignore = null, bool PreferSafetensors = true)
{
    /// <summary>
    /// What loading an OPT checkpoint needs: config.json, generation_config.json, vocab.json, merges.txt, the tokenizer
    /// files and the PyTorch weights, safetensors when the repo has them. Flax/TF weights and READMEs stay on the Hub.
    /// </summary>
    public static SnapshotFilter Checkpoint { get; } = new(["*.json", "*.txt", "*.safetensors", "*.bin"]);

    /// <summary>Every file, as snapshot_download does with no patterns.</summary>
    public static SnapshotFilter All { get; } = new(["*"], PreferSafetensors: false);

    public IReadOnlyList<string> Select(IEnumerable<string> paths)
    {
        var kept = paths.Where(p => Allow.Any(a => Matches(a, p)) && !(Ignore ?? []).Any(i => Matches(i, p))).ToList();
        if (!PreferSafetensors) return kept;
        // transformers (modeling_utils.py::_get_resolved_checkpoint_files) loads model.safetensors or its index when
        // present and then never reads pytorch_model*.bin: fetching both would double a 66b download for nothing.
        var foldersWithSafetensors = kept.Where(p => p.EndsWith(".safetensors", StringComparison.Ordinal)).Select(Folder).ToHashSet(StringComparer.Ordinal);
        return kept.Where(p => !(foldersWithSafetensors.Contains(Folder(p))
            && (p.EndsWith(".bin", StringComparison.Ordinal) || p.EndsWith(".bin.index.json", StringComparison.Ordinal)))).ToList();
    }

    static string Folder(string path) => path.LastIndexOf('/') is var i and >= 0 ? path[..i] : "";

    /// <summary>fnmatch.fnmatchcase after filter_repo_objects' normalisation: '\' becomes '/', a trailing '/' gets '*'.</summary>
    public static bool Matches(string pattern, string path)
    {
        pattern = pattern.Replace('\\', '/');
        if (pattern.EndsWith('/')) pattern += "*";
        return Regex.IsMatch(path.Replace('\\', '/'), Translate(pattern), RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }

    /// <summary>fnmatch.translate: '*' any run, '?' one character, '[seq]' / '[!seq]' a class; an unclosed '[' is literal.</summary>
    static string Translate(string pattern)
    {
        var regex = new StringBuilder(@"\A");
        for (int i = 0; i < pattern.Length;)
        {
            char c = pattern[i++];
            if (c == '*') { regex.Append(".*"); while (i < pattern.Length && pattern[i] == '*') i++; }
            else if (c == '?') regex.Append('.');
            else if (c == '[' && ClassEnd(pattern, i) is var end and >= 0)
            {
                var set = pattern[i..end].Replace(@"\", @"\\", StringComparison.Ordinal).Replace("[", @"\[", StringComparison.Ordinal);
                regex.Append('[').Append(set.StartsWith('!') ? "^" + set[1..] : set.StartsWith('^') ? @"\" + set : set).Append(']');
                i = end + 1;
            }
            else regex.Append(Regex.Escape(c.ToString()));
        }
        return regex.Append(@"\z").ToString();
    }

    // A ']' right after '[' or '[!' belongs to the set, as in fnmatch.
    static int ClassEnd(string pattern, int start)
    {
        int j = start;
        if (j < pattern.Length && pattern[j] == '!') j++;
        if (j < pattern.Length && pattern[j] == ']') j++;
        while (j < pattern.Length && pattern[j] != ']') j++;
        return j < pattern.Length ? j : -1;
    }
}
