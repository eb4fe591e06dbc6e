using OptNeurons.Data;

namespace OptNeurons.Corpus;

/// <summary>How documents become model inputs; every sequence starts with BOS either way.</summary>
public enum Packing
{
    /// <summary>
    /// Documents are joined into one stream with <c>&lt;/s&gt;</c> (the BOS id, which is also OPT's EOS and its
    /// pretraining document separator) between them, and the stream is cut into BOS + (T−1)-token windows. A window may
    /// hold the end of one document and the start of the next.
    /// </summary>
    Concatenated,
    /// <summary>Each document is cut on its own into BOS + (T−1)-token windows; no window spans two documents.</summary>
    PerDocument,
}

/// <summary>
/// Turns sampled documents into BOS-started sequences of at most T tokens. Packing never pads: only a document's (or
/// the stream's) last window can be shorter than T, and <c>fullLengthOnly</c> drops those, so every sequence has
/// exactly T tokens and each position 0…T−1 is seen equally often (the positional analysis needs this, B.1:
/// "p(pos) = 1/T"). Padding happens later, in <see cref="TokenBatches.Make"/>, and only to the right of real tokens.
/// </summary>
public static class SequencePacker
{
    public static IReadOnlyList<long[]> Pack(IEnumerable<IReadOnlyList<int>> documents, int bosId, int sequenceLength, Packing packing, bool fullLengthOnly)
    {
        if (sequenceLength < 2) throw new ArgumentOutOfRangeException(nameof(sequenceLength), sequenceLength, "sequence length must be at least 2 (BOS + one token).");
        IEnumerable<IReadOnlyList<int>> pieces = packing switch
        {
            Packing.Concatenated => [Stream(documents, bosId)],
            Packing.PerDocument => documents,
            _ => throw new ArgumentOutOfRangeException(nameof(packing), packing, null),
        };
        // TokenBatches.Windows is the one place that cuts tokens into BOS-started windows.
        var windows = pieces.SelectMany(p => TokenBatches.Windows(p, sequenceLength, bosId));
        return (fullLengthOnly ? windows.Where(w => w.Length == sequenceLength) : windows).ToList();
    }

    static List<int> Stream(IEnumerable<IReadOnlyList<int>> documents, int separatorId)
    {
        var stream = new List<int>();
        foreach (var doc in documents)
        {
            if (stream.Count > 0) stream.Add(separatorId);
            stream.AddRange(doc);
        }
        return stream;
    }
}
