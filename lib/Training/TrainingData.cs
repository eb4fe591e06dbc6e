using System.Runtime.InteropServices;
using System.Security.Cryptography;
using static TorchSharp.torch;

namespace OptNeurons.Training;

/// <summary>
/// The token streams of a run (no BOS; documents may be joined by &lt;/s&gt;) and a description for the model card.
/// </summary>
public sealed record TrainingData(int[] Train, int[] HeldOut, string Description)
{
    public TrainingData(IReadOnlyList<int> train, IReadOnlyList<int> heldOut, string description)
        : this(train as int[] ?? [.. train], heldOut as int[] ?? [.. heldOut], description) { }

    /// <summary>SHA-256 of both streams: a resumed run must see exactly the tokens the checkpoint was trained on.</summary>
    public string Fingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var stream in new[] { Train, HeldOut })
        {
            hash.AppendData(BitConverter.GetBytes((long)stream.Length));
            hash.AppendData(MemoryMarshal.AsBytes(stream.AsSpan()));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}

/// <summary>
/// Cuts training windows: T consecutive tokens w₀…w_{T−1} from the stream become the input BOS, w₀…w_{T−2} and the
/// targets w₀…w_{T−1}, so every one of the T positions predicts its next token (the last one the token after the
/// window's T − 1 input tokens).
/// </summary>
public static class Windows
{
    /// <summary>A random batch: (B, T) inputs and targets, starts drawn uniformly from <paramref name="rng"/>.</summary>
    public static (Tensor Input, Tensor Target) Random(int[] stream, int context, int batchSize, Xoshiro256 rng, int bosId)
    {
        long starts = stream.Length - context + 1;
        if (starts <= 0) throw new ArgumentException($"the training stream has {stream.Length} tokens; context {context} needs at least {context}.");
        var offsets = new long[batchSize];
        for (int b = 0; b < batchSize; b++) offsets[b] = rng.NextBelow(starts);
        return Make(stream, context, offsets, bosId);
    }

    /// <summary>
    /// The fixed held-out batches: <paramref name="batches"/> × B windows spread evenly over the stream (which joins
    /// the tail of every file), the same at every evaluation so the losses are comparable.
    /// </summary>
    public static IEnumerable<(Tensor Input, Tensor Target)> Evenly(int[] stream, int context, int batchSize, int batches, int bosId)
    {
        long starts = stream.Length - context + 1;
        if (starts <= 0) throw new ArgumentException($"the held-out stream has {stream.Length} tokens; context {context} needs at least {context}.");
        long count = (long)batchSize * batches;
        for (int k = 0; k < batches; k++)
        {
            var offsets = new long[batchSize];
            for (int b = 0; b < batchSize; b++) offsets[b] = (k * batchSize + b) * starts / count;
            yield return Make(stream, context, offsets, bosId);
        }
    }

    static (Tensor Input, Tensor Target) Make(int[] stream, int context, long[] offsets, int bosId)
    {
        int batchSize = offsets.Length;
        var input = new long[batchSize * context];
        var target = new long[batchSize * context];
        for (int b = 0; b < batchSize; b++)
        {
            int row = b * context, start = checked((int)offsets[b]);
            input[row] = bosId;
            for (int i = 0; i < context; i++)
            {
                target[row + i] = stream[start + i];
                if (i + 1 < context) input[row + i + 1] = stream[start + i];
            }
        }
        return (tensor(input).reshape(batchSize, context), tensor(target).reshape(batchSize, context));
    }
}
