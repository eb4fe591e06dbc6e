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

    /// <summary>The checkout: the folder holding OptNeurons.Lib.csproj at or above <paramref name="start"/>, or null.</summary>
    public static string? FindCheckout(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "OptNeurons.Lib.csproj"))) return dir.FullName;
        return null;
    }
}
