namespace OptNeurons.Training;

/// <summary>
/// xoshiro256** (Blackman and Vigna), seeded through SplitMix64 as its authors recommend. The trainer draws its data
/// windows from it, not from System.Random, because its whole state is four numbers that a checkpoint can store and
/// restore exactly, and its output is the same on every platform and .NET version.
/// </summary>
public sealed class Xoshiro256
{
    readonly ulong[] s = new ulong[4];

    public Xoshiro256(ulong seed)
    {
        var seeder = new Corpus.SplitMix64(seed);
        for (int i = 0; i < 4; i++) s[i] = seeder.Next();
    }

    /// <summary>Restores a generator from <see cref="State"/>.</summary>
    public Xoshiro256(IReadOnlyList<ulong> state)
    {
        if (state.Count != 4 || state.All(v => v == 0))
            throw new ArgumentException("a xoshiro256** state is four numbers, not all zero.", nameof(state));
        for (int i = 0; i < 4; i++) s[i] = state[i];
    }

    /// <summary>The four state words; a generator built from them continues exactly where this one is.</summary>
    public ulong[] State => (ulong[])s.Clone();

    public ulong Next()
    {
        ulong result = ulong.RotateLeft(s[1] * 5, 7) * 9;
        ulong t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = ulong.RotateLeft(s[3], 45);
        return result;
    }

    /// <summary>Uniform in [0, bound), without modulo bias (Lemire's multiply-and-reject).</summary>
    public long NextBelow(long bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        ulong n = (ulong)bound;
        ulong threshold = (0 - n) % n;   // 2^64 mod n: the low products below it would over-represent some values
        while (true)
        {
            ulong high = Math.BigMul(Next(), n, out ulong low);
            if (low >= threshold) return (long)high;
        }
    }
}
