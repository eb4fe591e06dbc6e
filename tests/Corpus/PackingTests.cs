using OptNeurons.Corpus;
using OptNeurons.Data;

namespace OptNeurons.Tests.Corpus;

public class PackingTests
{
    static readonly int[][] Docs = [[10, 11, 12], [13, 14]];

    [Fact]
    public void Concatenated_JoinsDocumentsWithSeparator_AndStartsEveryWindowWithBos()
    {
        Assert.Equal([[2, 10, 11], [2, 12, 2], [2, 13, 14]], SequencePacker.Pack(Docs, bosId: 2, sequenceLength: 3, Packing.Concatenated, fullLengthOnly: false));
        Assert.Equal([[2, 10, 11, 12], [2, 2, 13, 14]], SequencePacker.Pack(Docs, 2, 4, Packing.Concatenated, false));
        Assert.Equal([[2, 10, 11, 12, 2]], SequencePacker.Pack(Docs, 2, 5, Packing.Concatenated, true));
    }

    [Fact]
    public void PerDocument_NeverSpansDocuments_AndFullLengthOnlyDropsShortWindows()
    {
        Assert.Equal([[2, 10, 11], [2, 12], [2, 13, 14]], SequencePacker.Pack(Docs, 2, 3, Packing.PerDocument, false));
        Assert.Equal([[2, 10, 11], [2, 13, 14]], SequencePacker.Pack(Docs, 2, 3, Packing.PerDocument, true));
    }

    [Fact]
    public void PackedSequences_HoldNoPadding_AndBatchingPadsOnlyAfterTheRealTokens()
    {
        var built = CorpusBuilder.Build(WordTokenizer.Numbered(40), WordTokenizer.Encode, WordTokenizer.Bos, 300, seed: 5, new PackingOptions(16, Packing.PerDocument));
        Assert.All(built.Sequences, s => { Assert.Equal(WordTokenizer.Bos, s[0]); Assert.InRange(s.Length, 2, 16); Assert.DoesNotContain(WordTokenizer.Pad, s); });
        Assert.Contains(built.Sequences, s => s.Length < 16);
        int row = 0;
        foreach (var (ids, mask) in TokenBatches.Make(built.Sequences, 8, WordTokenizer.Pad))
        {
            using (ids) using (mask)
            {
                var idRows = ids.data<long>().ToArray().Chunk((int)ids.shape[1]).ToList();
                var maskRows = mask.data<long>().ToArray().Chunk((int)ids.shape[1]).ToList();
                for (int r = 0; r < idRows.Count; r++, row++)
                {
                    int n = built.Sequences[row].Length;
                    Assert.Equal(built.Sequences[row], idRows[r][..n]);
                    Assert.All(idRows[r][n..], id => Assert.Equal(WordTokenizer.Pad, id));
                    Assert.Equal(Enumerable.Repeat(1L, n).Concat(Enumerable.Repeat(0L, idRows[r].Length - n)), maskRows[r]);
                }
            }
        }
        Assert.Equal(built.Sequences.Count, row);
    }

    [Theory]
    [InlineData(Packing.Concatenated)]
    [InlineData(Packing.PerDocument)]
    public void FullLengthOnly_CoversEveryPositionEquallyOften(Packing packing)
    {
        const int T = 8;
        var built = CorpusBuilder.Build(WordTokenizer.Numbered(80), WordTokenizer.Encode, WordTokenizer.Bos, 600, seed: 9, new PackingOptions(T, packing, FullLengthOnly: true));
        Assert.True(built.Sequences.Count > 10);
        var perPosition = new int[T];
        foreach (var s in built.Sequences) for (int p = 0; p < s.Length; p++) perPosition[p]++;
        Assert.All(perPosition, c => Assert.Equal(built.Sequences.Count, c));
        Assert.Equal(built.Sequences.Count * (long)T, built.Spec.Positions);
        Assert.All(built.Sequences, s => Assert.Equal(WordTokenizer.Bos, s[0]));
    }
}
