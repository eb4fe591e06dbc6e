using System.Text;

namespace OptNeurons.Tokenization;

/// <summary>
/// Character spans of byte-level tokens, computed from their byte lengths. ML.NET 2.0.1 reports spans one char short
/// for characters outside the BMP (an emoji's low surrogate is left uncovered), so the spans are rebuilt here the way
/// HF's fast tokenizers report them: a token covers every char whose UTF-8 bytes it touches, and tokens that share
/// one character's bytes (é as two byte tokens) share its span.
/// </summary>
internal static class Utf8Offsets
{
    /// <summary>
    /// Spans for tokens that cover <paramref name="text"/>'s UTF-8 bytes in order, <paramref name="byteLengths"/>
    /// bytes each; null when the lengths do not add up to the text (an unknown token stood in for some bytes).
    /// </summary>
    public static List<(int Start, int Length)>? Spans(string text, IReadOnlyList<int> byteLengths)
    {
        // For every UTF-8 byte: the first char of its code point and the char just after it.
        var first = new List<int>(text.Length * 2);
        var after = new List<int>(text.Length * 2);
        int c = 0;
        foreach (var rune in text.EnumerateRunes())   // a lone surrogate reads as U+FFFD, 3 bytes, as UTF8.GetBytes writes it
        {
            int chars = rune.Utf16SequenceLength;
            for (int k = 0; k < rune.Utf8SequenceLength; k++) { first.Add(c); after.Add(c + chars); }
            c += chars;
        }
        if (byteLengths.Sum() != first.Count || byteLengths.Any(n => n <= 0)) return null;

        var spans = new List<(int, int)>(byteLengths.Count);
        int b = 0;
        foreach (var n in byteLengths)
        {
            spans.Add((first[b], after[b + n - 1] - first[b]));
            b += n;
        }
        return spans;
    }

    /// <summary>Bytes a token stands for: one per char of its byte-level spelling, or a special token's own UTF-8.</summary>
    public static int ByteLength(string tokenText, bool special) =>
        special ? Encoding.UTF8.GetByteCount(tokenText) : tokenText.Length;
}
