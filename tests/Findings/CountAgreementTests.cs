using OptNeurons.Findings;
using OptNeurons.Stats;

namespace OptNeurons.Tests.Findings;

public class CountAgreementTests
{
    // 4 sequences BOS 5 6 7, 2 layers of 4 neurons. The reference: neuron 0 never fires, 1 on BOS, 2 on token 5, 3 everywhere.
    static readonly long[][] Sequences = [.. Enumerable.Repeat(new long[] { HandStats.Bos, 5, 6, 7 }, 4)];

    static ModelStats Capture(string name, Fires fires) => new(name, 2, HandStats.Capture(Sequences, ffn: 4, fires, layers: 2));

    static bool Reference(int layer, int n, int s, int p, long[] ids) => n switch { 1 => p == 0, 2 => ids[p] == 5, 3 => true, _ => false };

    [Fact]
    public void IdenticalCaptures_Agree()
    {
        var rows = CountAgreement.PerLayer(Capture("a", Reference), Capture("b", Reference));
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal((1, 1, 0, 0.0, 0.0), (r.DeadReference, r.DeadOther, r.DeadChanged, r.CountChange, r.MaxNeuronChange)));
    }

    [Fact]
    public void DecisionsThatDiffer_MoveTheCounts_ByHand()
    {
        // In layer 1 only: neuron 0 fires once (sequence 2, position 3), neuron 3 misses position 1 of sequences 0 and 1.
        var other = Capture("other", (l, n, s, p, ids) => l == 1 && n == 0 ? s == 2 && p == 3
                                                       : l == 1 && n == 3 ? !(s < 2 && p == 1)
                                                       : Reference(l, n, s, p, ids));
        var rows = CountAgreement.PerLayer(Capture("reference", Reference), other);
        Assert.Equal(new CountAgreementRow("other", 0, 2, 0.0, 1, 1, 0, 0.0, 0.0), rows[0]);
        // Reference counts 0, 4, 4, 16 (24 in all); other 1, 4, 4, 14: |Δ| = 1 + 2 = 3; neuron 0 moved 1 / max(0, 1), neuron 3 2 / 16.
        Assert.Equal(new CountAgreementRow("other", 1, 2, 1.0, 1, 0, 1, 3 / 24.0, 1.0), rows[1]);
    }

    [Fact]
    public void CapturesOfOtherTokens_AreRefused()
    {
        var fewer = new ModelStats("fewer", 2, HandStats.Capture(Sequences[..3], ffn: 4, Reference, layers: 2));
        var error = Assert.Throws<ArgumentException>(() => CountAgreement.PerLayer(Capture("all", Reference), fewer));
        Assert.Equal("all (4 sequences, 16 tokens, ffn 4) and fewer (3 sequences, 12 tokens, ffn 4) did not count the same tokens of the same model.", error.Message);
    }
}
