namespace OptNeurons.Corpus;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood 2014), the generator that seeds xoshiro. It is our own so that a seed gives the same
/// stream on every machine and .NET version; System.Random's algorithm is an implementation detail that may change.
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    ulong state = seed;

    public ulong Next()
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, <paramref name="bound"/>): rejection sampling, so no value is favoured by the modulo.</summary>
    public int NextBelow(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        ulong n = (ulong)bound, threshold = (0UL - n) % n;  // 2^64 mod n: values below it would bias the result
        ulong x;
        do x = Next(); while (x < threshold);
        return (int)(x % n);
    }

    /// <summary>A seeded Fisher–Yates permutation of 0…<paramref name="count"/>−1.</summary>
    public int[] Permutation(int count)
    {
        var order = Enumerable.Range(0, count).ToArray();
        for (int i = count - 1; i > 0; i--)
        {
            int j = NextBelow(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
