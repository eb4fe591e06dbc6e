namespace OptNeurons.Tests.Support;

/// <summary>A fresh folder under the system temp folder, deleted on Dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Path = Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "optneurons-" + Guid.NewGuid().ToString("N"))).FullName;

    public string Path { get; }

    /// <summary>A path (not created) inside the folder.</summary>
    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }   // a file still mapped by a crashed test must not fail the next one
    }
}
