namespace OptNeurons.Cli;

/// <summary>
/// A small "--name value" / "--flag" parser that rejects unknown options by name. Options listed as multi-valued take
/// every following value ("--text a.txt b.txt"); others take exactly one, once. An option given without a value is
/// reported when the command reads it ("needs a value") or, if the command has no such option, as unknown.
/// </summary>
sealed class Arguments
{
    readonly Dictionary<string, List<string>> values = new(StringComparer.Ordinal);
    readonly HashSet<string> flags = new(StringComparer.Ordinal);
    readonly HashSet<string> used = new(StringComparer.Ordinal);
    readonly HashSet<string> valueless = new(StringComparer.Ordinal);   // given with no value after them

    public Arguments(IEnumerable<string> args, IReadOnlySet<string> flagNames, IReadOnlySet<string>? multiValued = null)
    {
        string? pending = null, collecting = null;
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (arg.IndexOf('=') is > 2 and var equals)
                    throw new ArgumentException($"write {arg[..equals]} {arg[(equals + 1)..]}, with a space: options do not take '='.");
                if (pending is not null) valueless.Add(pending);
                collecting = null;
                if (flagNames.Contains(arg)) flags.Add(arg);
                else pending = arg;
            }
            else if (pending is not null || collecting is not null)
            {
                var name = pending ?? collecting!;
                bool multi = multiValued?.Contains(name) == true;
                if (!multi && pending is not null && values.ContainsKey(name)) throw new ArgumentException($"option {name} is given twice.");
                (values.TryGetValue(name, out var list) ? list : values[name] = []).Add(arg);
                if (multi) collecting = name;
                pending = null;
            }
            else throw new ArgumentException($"unexpected argument '{arg}'; options start with --.");
        }
        if (pending is not null) valueless.Add(pending);
    }

    public bool Flag(string name) { used.Add(name); return flags.Contains(name); }

    public IReadOnlyList<string> All(string name)
    {
        used.Add(name);
        if (valueless.Contains(name)) throw new ArgumentException($"option {name} needs a value.");
        return values.TryGetValue(name, out var v) ? v : [];
    }

    public string? Optional(string name) => All(name) is [.., var last]
        ? (last.Length > 0 ? last : throw new ArgumentException($"option {name} is given an empty value."))
        : null;

    public string Required(string name) => Optional(name) ?? throw new ArgumentException($"option {name} is required.");

    /// <summary>A required output folder: created later if missing, refused now if a file has its name.</summary>
    public string OutputFolder(string name) => CheckOutputFolder(name, Required(name));

    public static string CheckOutputFolder(string name, string path) => File.Exists(path)
        ? throw new ArgumentException($"{name} '{path}' is a file; give a folder (it is created if missing).")
        : path;

    public int Int(string name, int fallback)
    {
        var text = Optional(name);
        if (text is null) return fallback;
        return int.TryParse(text, out var v) && v > 0 ? v : throw new ArgumentException($"option {name} must be a positive integer, got '{text}'.");
    }

    /// <summary>A positive integer, or null when the option is absent.</summary>
    public int? PositiveIntOrNull(string name) => Optional(name) is null ? null : Int(name, 0);

    /// <summary>A whole number of at least <paramref name="min"/>, or null when the option is absent.</summary>
    public long? Long(string name, long min)
    {
        var text = Optional(name);
        if (text is null) return null;
        return long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new ArgumentException($"option {name} must be a whole number of at least {min}, got '{text}'.");
    }

    /// <summary>Call after reading every option: names any option the command does not know.</summary>
    public void RejectUnknown()
    {
        var unknown = values.Keys.Concat(flags).Concat(valueless).Where(k => !used.Contains(k)).Distinct().ToList();
        if (unknown.Count > 0) throw new ArgumentException($"unknown option(s): {string.Join(", ", unknown)}.");
    }
}
