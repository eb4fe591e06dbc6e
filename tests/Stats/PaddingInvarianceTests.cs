using OptNeurons.Stats;
using static OptNeurons.Tests.Stats.StatsTestData;

namespace OptNeurons.Tests.Stats;

public class PaddingInvarianceTests
{
    static readonly int[] Layers = [0, 1];

    static NeuronStats Run(List<Sequence> seqs, int batchSize, bool leftPad, bool includeFirst)
    {
        using var c = new NeuronStatsCollector(new StatsOptions { IncludeFirstPosition = includeFirst }, Layers, ffnDim: 6, maxLength: 12, vocabSize: 9);
        Feed(c, seqs, batchSize, leftPad, Layers);
        return c.Result();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LeftPadded_RightPadded_AndOnePerBatch_GiveIdenticalStats(bool includeFirst)
    {
        // 9 sequences of 1..12 tokens: ~70 tokens in all, fewer than K = 128 per neuron, so every summary stays exact
        // and any difference would be a bug, not a Misra–Gries tie.
        var seqs = RandomSequences(seed: 1234, count: 9, minLength: 1, maxLength: 12, vocab: 9, layers: 2, ffn: 6, density: 0.3);
        var left = Run(seqs, batchSize: 4, leftPad: true, includeFirst);
        var right = Run(seqs, batchSize: 4, leftPad: false, includeFirst);
        var single = Run(seqs, batchSize: 1, leftPad: false, includeFirst);
        var oneBatch = Run(seqs, batchSize: 9, leftPad: true, includeFirst);

        long realTokens = seqs.Sum(s => s.Ids.Length - (includeFirst ? 0 : 1));
        Assert.Equal(realTokens, left.TokenCount);
        Assert.Equal(9, left.SequenceCount);
        Assert.True(left.ActiveCounts(1).ToArray().Sum() > 0);
        AssertEqual(left, right);
        AssertEqual(left, single);
        AssertEqual(left, oneBatch);
    }

    [Fact]
    public void Positions_FollowTheMask_NotTheColumn()
    {
        var seqs = RandomSequences(seed: 7, count: 3, minLength: 2, maxLength: 10, vocab: 5, layers: 2, ffn: 6, density: 0.5);
        var left = Run(seqs, batchSize: 3, leftPad: true, includeFirst: true);
        // Position p holds one token from every sequence longer than p, wherever padding put it.
        var expected = Enumerable.Range(0, 12).Select(p => (long)seqs.Count(s => s.Ids.Length > p)).ToArray();
        Assert.Equal(expected, left.PositionTokenCounts.ToArray());
        // Neuron 2 of layer 1 at position 0: active in exactly the sequences whose first activation is positive.
        int firstActive = seqs.Count(s => s.Activations[1][0][2] > 0);
        Assert.Equal(firstActive, left.PositionActiveCurve(1, 2)[0]);
    }
}
