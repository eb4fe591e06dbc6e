using System.Runtime.InteropServices;
using OptNeurons.Runtime;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Runtime;

/// <summary>Runs only where TorchSharp ships libLibTorchSharp.so for linux-x64.</summary>
public sealed class LinuxX64FactAttribute : FactAttribute
{
    public LinuxX64FactAttribute()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64)
            Skip = "needs Linux x64, where TorchSharp's libLibTorchSharp.so is an ELF64 file";
    }
}

/// <summary>The version-need patch, on a copy of TorchSharp's real native library.</summary>
public class GlibcxxCompatTests
{
    static readonly string Native = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    [LinuxX64Fact]
    public void Patch_MarksOnlyTheMissingVersionsWeak_Once()
    {
        using var dir = new TempDirectory();
        var copy = Path.Combine(dir.Path, "libLibTorchSharp.so");
        // Start from the library as shipped: the copy this process loaded may already carry the patch.
        var original = File.ReadAllBytes(Native);
        foreach (var need in GlibcxxCompat.LibstdcxxNeeds(original, Native)) original[need.FlagsOffset] &= unchecked((byte)~2);
        File.WriteAllBytes(copy, original);
        // A system that has everything up to GLIBCXX_3.4.30 (Debian 12), but not 3.4.32.
        var debian12 = new HashSet<string>(Enumerable.Range(0, 31).Select(i => i == 0 ? "GLIBCXX_3.4" : $"GLIBCXX_3.4.{i}")
            .Concat(Enumerable.Range(0, 14).Select(i => i == 0 ? "CXXABI_1.3" : $"CXXABI_1.3.{i}")));
        Assert.Equal(["GLIBCXX_3.4.32"], GlibcxxCompat.MissingVersions(copy, debian12));
        Assert.Equal(["GLIBCXX_3.4.32"], GlibcxxCompat.PatchIfNeeded(copy, debian12));
        Assert.Empty(GlibcxxCompat.MissingVersions(copy, debian12));
        Assert.Empty(GlibcxxCompat.PatchIfNeeded(copy, debian12));          // idempotent
        var patched = File.ReadAllBytes(copy);
        Assert.Equal(original.Length, patched.Length);
        Assert.Single(Enumerable.Range(0, original.Length), i => original[i] != patched[i]);   // one flag byte
    }

    [LinuxX64Fact]
    public void Patch_ChangesNothing_WhenTheSystemHasEveryVersion()
    {
        using var dir = new TempDirectory();
        var copy = Path.Combine(dir.Path, "libLibTorchSharp.so");
        File.Copy(Native, copy);
        var before = File.ReadAllBytes(copy);
        var everything = new HashSet<string>(Enumerable.Range(0, 40).Select(i => $"GLIBCXX_3.4.{i}")
            .Concat(Enumerable.Range(0, 20).Select(i => $"CXXABI_1.3.{i}")).Append("GLIBCXX_3.4").Append("CXXABI_1.3"));
        Assert.Empty(GlibcxxCompat.PatchIfNeeded(copy, everything));
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    [Fact]
    public void Patch_RefusesANonElfFile_NamingIt()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "not-elf.so");
        File.WriteAllText(path, "hello, this is text and not a shared library at all, padded to be long enough to parse");
        var e = Assert.Throws<InvalidDataException>(() => GlibcxxCompat.MissingVersions(path, new HashSet<string>()));
        Assert.Contains(path, e.Message);
    }
}
