using System.Text;

namespace OptNeurons.Tokenization;

/// <summary>
/// GPT-2's byte-to-character table (<c>bytes_to_unicode</c> in HF's tokenization_gpt2.py): vocab.json and merges.txt
/// spell every byte as one visible character, so a space is "Ġ" (U+0120) and a newline "Ċ" (U+010A).
/// </summary>
public static class ByteLevelAlphabet
{
    static readonly char[] ByteToChar = Build();

    static char[] Build()
    {
        var table = new char[256];
        var kept = new bool[256];
        // Printable Latin-1 bytes stand for themselves; the rest are moved, in byte order, to U+0100 onwards.
        for (int b = '!'; b <= '~'; b++) kept[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) kept[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) kept[b] = true;
        int next = 256;
        for (int b = 0; b < 256; b++) table[b] = kept[b] ? (char)b : (char)next++;
        return table;
    }

    /// <summary>The vocab.json spelling of a byte string, e.g. " the" → "Ġthe".</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (var b in bytes) sb.Append(ByteToChar[b]);
        return sb.ToString();
    }

    /// <summary>The vocab.json spelling of the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static string Encode(string text) => Encode(Encoding.UTF8.GetBytes(text));
}
