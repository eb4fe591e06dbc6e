namespace OptNeurons.Stats;

/// <summary>
/// An n-gram (n = 1..3) packed into one int64: <c>(t[k-2] &lt;&lt; 34) | (t[k-1] &lt;&lt; 17) | t[k]</c>, the last token
/// in the low bits and unused high slots zero. 17 bits per token hold vocabularies up to 131072 (OPT: 50272). Keys of
/// different orders live in different tables, so a bigram and a trigram with the same packed value never meet.
/// </summary>
public static class NgramKey
{
    /// <summary>Bits per token in a packed key.</summary>
    public const int BitsPerToken = 17;

    /// <summary>The largest vocabulary whose ids fit in <see cref="BitsPerToken"/> bits.</summary>
    public const int MaxVocabSize = 1 << BitsPerToken;

    const long Mask = MaxVocabSize - 1;

    /// <summary>Packs the tokens of an n-gram, oldest first: <c>Pack(a, b, c)</c> is the trigram "a b c".</summary>
    public static long Pack(params ReadOnlySpan<int> tokens)
    {
        if (tokens.Length is < 1 or > 3)
            throw new ArgumentException($"An n-gram key holds 1 to 3 tokens, got {tokens.Length}.");
        long key = 0;
        foreach (var t in tokens)
        {
            if ((uint)t >= MaxVocabSize)
                throw new ArgumentException($"Token id {t} does not fit in a packed n-gram key (ids must be in [0, {MaxVocabSize})).");
            key = (key << BitsPerToken) | (uint)t;
        }
        return key;
    }

    /// <summary>The <paramref name="n"/> token ids of a key, oldest first.</summary>
    public static int[] Unpack(long key, int n)
    {
        if (n is < 1 or > 3) throw new ArgumentException($"n must be 1, 2 or 3, got {n}.");
        var tokens = new int[n];
        for (int i = n - 1; i >= 0; i--, key >>= BitsPerToken) tokens[i] = (int)(key & Mask);
        return tokens;
    }

    /// <summary>Appends token <paramref name="t"/> to the key of the preceding (n-1)-gram, as the collector does.</summary>
    internal static long Extend(long previous, int t) => (previous << BitsPerToken) | (uint)t;
}
