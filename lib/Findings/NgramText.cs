using OptNeurons.Stats;
using OptNeurons.Tokenization;

namespace OptNeurons.Findings;

/// <summary>Labels for tables and charts.</summary>
public static class NgramText
{
    /// <summary>The raw vocabulary strings of a packed n-gram's tokens, oldest first, space-separated ("Ġthe Ġcat").</summary>
    public static string Of(OptTokenizer tokenizer, long key, int n) =>
        string.Join(" ", NgramKey.Unpack(key, n).Select(tokenizer.TokenText));

    /// <summary>Several n-grams for one table cell: "Ġthe Ġcat | Ġa Ġdog".</summary>
    public static string List(OptTokenizer tokenizer, IEnumerable<long> keys, int n) =>
        string.Join(" | ", keys.Select(k => Of(tokenizer, k, n)));
}
