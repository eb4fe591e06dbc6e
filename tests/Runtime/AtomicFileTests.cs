using OptNeurons.Runtime;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Runtime;

public class AtomicFileTests
{
    [Fact]
    public void AWriteThatFails_LeavesTheOldFileAndNoTemporary()
    {
        using var dir = new TempDirectory();
        var path = dir.Sub("result.json");
        AtomicFile.WriteAllText(path, "old");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, file => { file.Write("new, half"u8); throw new IOException("disk full"); }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void AWrite_ReplacesTheFile_CreatesItsFolder_AndSetsTheModeGiven()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "new", "tool");
        AtomicFile.WriteAllText(path, "first");
        AtomicFile.Write(path, file => file.Write("second"u8), OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserExecute);
        Assert.Equal("second", File.ReadAllText(path));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserExecute, File.GetUnixFileMode(path));
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }
}
