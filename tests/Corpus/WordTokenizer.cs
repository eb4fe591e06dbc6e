using System.Text;
using OptNeurons.Corpus;

namespace OptNeurons.Tests.Corpus;

/// <summary>
/// A stand-in for the OPT tokenizer: one id per whitespace-separated word, from a stable hash (FNV-1a) into
/// [10, 50,000), so ids never collide with BOS (2) or padding (1).
/// </summary>
static class WordTokenizer
{
    public const int Bos = 2, Pad = 1;

    public static IReadOnlyList<int> Encode(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(Id).ToArray();

    static int Id(string word)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(word)) h = (h ^ b) * 1099511628211UL;
        return 10 + (int)(h % 49_990);
    }

    /// <summary>A corpus of <paramref name="count"/> documents "d{i} w0 w1 …" of 1 + (i·7 mod 23) words.</summary>
    public static ICorpus Numbered(int count) => new ListCorpus(
        Enumerable.Range(0, count).Select(i => new Document($"doc{i}", string.Join(' ', Enumerable.Range(0, 1 + i * 7 % 23).Select(w => $"d{i}w{w}")))).ToList());

    sealed class ListCorpus(IReadOnlyList<Document> documents) : ICorpus
    {
        public string Source => $"list:{documents.Count} documents";
        public IEnumerable<Document> Documents() => documents;
    }
}
