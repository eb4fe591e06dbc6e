using static TorchSharp.torch;

namespace OptNeurons.Data;

public enum PaddingSide { Right, Left }

/// <summary>Token sequences of a capture, and how they are cut into padded batches.</summary>
public static class TokenBatches
{
    /// <summary>
    /// Consecutive groups of <paramref name="batchSize"/> sequences, each padded with <paramref name="padId"/> to the
    /// group's longest sequence, with its attention mask. Tensors are created on the CPU; the caller owns them.
    /// </summary>
    public static IEnumerable<(Tensor InputIds, Tensor AttentionMask)> Make(IReadOnlyList<long[]> sequences, int batchSize, int padId, PaddingSide side = PaddingSide.Right)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive.");
        for (int start = 0; start < sequences.Count; start += batchSize)
        {
            var group = sequences.Skip(start).Take(batchSize).ToList();
            int width = group.Max(s => s.Length);
            var ids = new long[group.Count * width];
            var mask = new long[group.Count * width];
            Array.Fill(ids, padId);
            for (int r = 0; r < group.Count; r++)
            {
                int offset = r * width + (side == PaddingSide.Left ? width - group[r].Length : 0);
                group[r].CopyTo(ids, offset);
                Array.Fill(mask, 1, offset, group[r].Length);
            }
            long[] shape = [group.Count, width];
            yield return (tensor(ids, shape), tensor(mask, shape));
        }
    }

    /// <summary>
    /// Splits a document's tokens (without BOS) into windows of at most <paramref name="maxLength"/> tokens that each
    /// start with <paramref name="bosId"/>, so every window looks like a fresh OPT input.
    /// </summary>
    public static IEnumerable<long[]> Windows(IReadOnlyList<int> documentTokens, int maxLength, int bosId)
    {
        if (maxLength < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "max length must be at least 2 (BOS + one token).");
        for (int start = 0; start < documentTokens.Count; start += maxLength - 1)
        {
            int n = Math.Min(maxLength - 1, documentTokens.Count - start);
            var window = new long[n + 1];
            window[0] = bosId;
            for (int i = 0; i < n; i++) window[i + 1] = documentTokens[start + i];
            yield return window;
        }
    }
}
