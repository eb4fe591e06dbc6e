using System.Buffers.Binary;
using System.Text;

namespace OptNeurons.Runtime;

/// <summary>
/// Makes TorchSharp's native glue library loadable on systems whose libstdc++ is older than the one it was linked
/// against (Debian 12: GLIBCXX_3.4.30, while libLibTorchSharp.so asks for GLIBCXX_3.4.32).
/// </summary>
/// <remarks>
/// The only symbol libLibTorchSharp.so takes from GLIBCXX_3.4.32 is <c>std::ios_base_library_init()</c>, which it never
/// calls. The dynamic loader refuses the whole library for that one missing version unless the version need is marked
/// weak (<c>VER_FLG_WEAK</c> in its <c>Vernaux</c> entry of <c>.gnu.version_r</c>). We set that flag for exactly the
/// versions the system library lacks, so nothing changes on systems that have them. The file is rewritten through a
/// temporary copy and an atomic rename, so concurrent processes see either the old or the patched file, never a torn
/// one, and a second run finds nothing to do.
/// </remarks>
public static class GlibcxxCompat
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    /// <summary>Version names (e.g. "GLIBCXX_3.4.32") that <paramref name="elfPath"/> needs from libstdc++ and the
    /// system library does not define, and that are not yet marked weak.</summary>
    public static IReadOnlyList<string> MissingVersions(string elfPath, ISet<string> systemVersions)
    {
        var bytes = File.ReadAllBytes(elfPath);
        return StrongLibstdcxxNeeds(bytes, elfPath).Where(n => !systemVersions.Contains(n.Name)).Select(n => n.Name).ToList();
    }

    /// <summary>Marks every libstdc++ version need that the system lacks as weak. Returns the versions it marked.</summary>
    public static IReadOnlyList<string> PatchIfNeeded(string elfPath, ISet<string> systemVersions)
    {
        var bytes = File.ReadAllBytes(elfPath);
        var missing = StrongLibstdcxxNeeds(bytes, elfPath).Where(n => !systemVersions.Contains(n.Name)).ToList();
        if (missing.Count == 0) return [];
        foreach (var need in missing)
        {
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(need.FlagsOffset));
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(need.FlagsOffset), (ushort)(flags | VerFlagWeak));
        }
        try
        {
            AtomicFile.Write(elfPath, file => file.Write(bytes), OperatingSystem.IsWindows() ? null : File.GetUnixFileMode(elfPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException(
                $"{elfPath} needs {string.Join(", ", missing.Select(m => m.Name))}, which this system's libstdc++ lacks, " +
                $"and the file could not be patched ({e.Message}). Make its folder writable once, or install a libstdc++ " +
                "from GCC 13 or newer.", e);
        }
        return missing.Select(m => m.Name).ToList();
    }

    /// <summary>The version names (GLIBCXX_*, CXXABI_*) a libstdc++ file defines, read from its string table.</summary>
    public static HashSet<string> DefinedVersions(string libstdcxxPath)
    {
        var text = Encoding.Latin1.GetString(File.ReadAllBytes(libstdcxxPath));
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var prefix in new[] { "GLIBCXX_", "CXXABI_" })
            for (int i = text.IndexOf(prefix, StringComparison.Ordinal); i >= 0; i = text.IndexOf(prefix, i + 1, StringComparison.Ordinal))
            {
                int end = i + prefix.Length;
                while (end < text.Length && (char.IsDigit(text[end]) || text[end] == '.')) end++;
                if (end < text.Length && text[end] == '\0' && end > i + prefix.Length) found.Add(text[i..end]);
            }
        return found;
    }

    internal sealed record VersionNeed(string Name, int FlagsOffset, bool Weak);

    static List<VersionNeed> StrongLibstdcxxNeeds(byte[] elf, string path) => LibstdcxxNeeds(elf, path).Where(n => !n.Weak).ToList();

    /// <summary>Walks .gnu.version_r of an ELF64 little-endian file and lists its version needs on libstdc++.</summary>
    internal static List<VersionNeed> LibstdcxxNeeds(byte[] elf, string path)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException($"{path} is not an ELF file.");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file.");
        ulong U64(long at) => BinaryPrimitives.ReadUInt64LittleEndian(elf.AsSpan((int)at));
        uint U32(long at) => BinaryPrimitives.ReadUInt32LittleEndian(elf.AsSpan((int)at));
        ushort U16(long at) => BinaryPrimitives.ReadUInt16LittleEndian(elf.AsSpan((int)at));
        string CString(long at) { int end = (int)at; while (elf[end] != 0) end++; return Encoding.ASCII.GetString(elf, (int)at, end - (int)at); }

        long shoff = (long)U64(0x28);
        int shentsize = U16(0x3A), shnum = U16(0x3C);
        var needs = new List<VersionNeed>();
        for (int s = 0; s < shnum; s++)
        {
            long sh = shoff + (long)s * shentsize;
            if (U32(sh + 4) != ShtGnuVerneed) continue;
            long offset = (long)U64(sh + 24);
            uint strtabIndex = U32(sh + 40), count = U32(sh + 44);
            long strtab = (long)U64(shoff + strtabIndex * shentsize + 24);
            long vn = offset;
            for (uint i = 0; i < count; i++)
            {
                string file = CString(strtab + U32(vn + 4));
                long aux = vn + U32(vn + 8);
                for (int a = 0; a < U16(vn + 2); a++)
                {
                    if (file.StartsWith("libstdc++", StringComparison.Ordinal))
                        needs.Add(new VersionNeed(CString(strtab + U32(aux + 8)), (int)(aux + 4), (U16(aux + 4) & VerFlagWeak) != 0));
                    aux += U32(aux + 12);
                }
                vn += U32(vn + 12);
            }
        }
        return needs;
    }
}
