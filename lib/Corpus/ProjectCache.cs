namespace OptNeurons.Corpus;

/// <summary>
/// Where generated data (extracted text, …) is cached: <c>$OPTNEURONS_CACHE</c> when set, else <c>.cache/</c> in the
/// checkout (the nearest folder above the working directory or the running program that holds
/// OptNeurons.Lib.csproj; git ignores it), else the user's local application data.
/// </summary>
public static class ProjectCache
{
    public static string Root
    {
        get
        {
            if (Environment.GetEnvironmentVariable("OPTNEURONS_CACHE") is { Length: > 0 } env) return env;
            var checkout = FindCheckout(Environment.CurrentDirectory) ?? FindCheckout(AppContext.BaseDirectory);
            return checkout is not null ? Path.Combine(checkout, ".cache")
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "OptNeurons", "cache");
        }
    }

    /// <summary>
    /// Writes a file so that readers see either nothing or the whole file: write a temporary sibling, then rename it
    /// over the target (a rename within one folder is atomic), so an interrupted run never leaves a half cache.
    /// </summary>
    public static void WriteAtomically(string path, Action<Stream> write)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = $"{path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        try
        {
            using (var stream = File.Create(temp)) write(stream);
            File.Move(temp, path, overwrite: true);
        }
        finally { File.Delete(temp); }
    }

    static string? FindCheckout(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "OptNeurons.Lib.csproj"))) return dir.FullName;
        return null;
    }
}
