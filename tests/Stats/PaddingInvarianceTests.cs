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

    /// <summary>
    /// 600 rows of one batch, equal in length, so the per-position counts sum them in groups of at most 255 (byte sums)
    /// and the active counts likewise. Neuron 0 fires everywhere, neuron 1 at even positions, neuron 2 on row r when
    /// r % 3 == 0: the counts are known in closed form, and one row per batch must give the same file.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SixHundredEqualRows_InOneBatch_CountExactly(bool trackPositions)
    {
        const int rows = 600, length = 5;
        var seqs = Enumerable.Range(0, rows).Select(r => new Sequence(
            Enumerable.Range(0, length).Select(t => (long)((r + t) % 9)).ToArray(),
            [Enumerable.Range(0, length).Select(t => new[] { 1f, t % 2 == 0 ? 2f : 0f, r % 3 == 0 ? 0.5f : 0f }).ToArray()])).ToList();
        NeuronStats Count(int batchSize)
        {
            using var c = new NeuronStatsCollector(new StatsOptions { TrackPositions = trackPositions }, [0], ffnDim: 3, maxLength: length, vocabSize: 9);
            Feed(c, seqs, batchSize, leftPad: false, [0]);
            return c.Result();
        }
        var whole = Count(rows);
        Assert.Equal([rows * length, rows * 3L, rows / 3 * length], whole.ActiveCounts(0).ToArray());
        if (trackPositions)
            Assert.Equal([rows, rows, rows / 3, rows, 0, rows / 3, rows, rows, rows / 3], whole.PositionActiveCounts(0)[..9].ToArray());
        AssertEqual(whole, Count(1));
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
