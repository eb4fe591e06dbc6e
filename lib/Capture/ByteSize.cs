using System.Globalization;

namespace OptNeurons.Capture;

/// <summary>Byte counts as people write them: "16GB" (10^9), "16GiB" (2^30), "512MB", "1.5TB", "800000" (bytes).</summary>
public static class ByteSize
{
    static readonly (string Suffix, double Factor)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("K", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12), ("B", 1),
    ];

    public static long Parse(string text)
    {
        var trimmed = text.Trim();
        var unit = Units.FirstOrDefault(u => trimmed.EndsWith(u.Suffix, StringComparison.OrdinalIgnoreCase));
        var number = unit.Suffix is null ? trimmed : trimmed[..^unit.Suffix.Length].Trim();
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0 || double.IsInfinity(value))
            throw new ArgumentException($"'{text}' is not a size; write e.g. 16GB (10^9 bytes), 16GiB (2^30 bytes), 512MB or a number of bytes.");
        return checked((long)(value * (unit.Suffix is null ? 1 : unit.Factor)));
    }

    /// <summary>"1.2 GB", "35.0 MB", "512 B": decimal units, for logs and plans.</summary>
    public static string Format(long bytes)
    {
        string[] names = ["B", "kB", "MB", "GB", "TB"];
        double value = bytes;
        int i = 0;
        for (; i < names.Length - 1 && Math.Abs(value) >= 1000; i++) value /= 1000;
        return i == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:F1} {names[i]}");
    }
}
