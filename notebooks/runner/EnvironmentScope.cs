namespace OptNeurons.Notebooks;

/// <summary>Sets process environment variables and puts the old values back on Dispose.</summary>
sealed class EnvironmentScope : IDisposable
{
    readonly Dictionary<string, string?> previous;

    EnvironmentScope(IReadOnlyDictionary<string, string> variables)
    {
        previous = variables.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        foreach (var (name, value) in variables) Environment.SetEnvironmentVariable(name, value);
    }

    public static EnvironmentScope Set(IReadOnlyDictionary<string, string> variables) => new(variables);

    public void Dispose()
    {
        foreach (var (name, value) in previous) Environment.SetEnvironmentVariable(name, value);
    }
}
