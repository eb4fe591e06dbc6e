using OptNeurons.Data;
using OptNeurons.Runtime;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Data;

public class TokenBatchTests
{
    [Fact]
    public void Make_PadsEachBatchToItsLongestSequence_OnEitherSide()
    {
        TorchRuntime.Initialize();
        long[][] seqs = [[2, 5, 6], [2, 7], [2, 8, 9, 10]];
        var right = TokenBatches.Make(seqs, 2, padId: 1).ToList();
        Assert.Equal(2, right.Count);
        Assert.Equal(new long[] { 2, 5, 6, 2, 7, 1 }, right[0].InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 0 }, right[0].AttentionMask.data<long>().ToArray());
        Assert.Equal(new long[] { 2, 8, 9, 10 }, right[1].InputIds.data<long>().ToArray());
        var left = TokenBatches.Make(seqs, 2, padId: 1, PaddingSide.Left).First();
        Assert.Equal(new long[] { 2, 5, 6, 1, 2, 7 }, left.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 0, 1, 1 }, left.AttentionMask.data<long>().ToArray());
    }

    [Fact]
    public void Windows_StartWithBos_AndCoverTheDocumentOnce()
    {
        var windows = TokenBatches.Windows([10, 11, 12, 13, 14], maxLength: 3, bosId: 2).ToList();
        Assert.Equal([[2, 10, 11], [2, 12, 13], [2, 14]], windows);
    }

    [Fact]
    public void JsonInput_DropsMaskedPositions_AndNamesTheFileOnErrors()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "in.json");
        File.WriteAllText(path, """{"input_ids": [[1, 1, 2, 5], [2, 6, 7]], "attention_mask": [[0, 0, 1, 1], [1, 1, 1]]}""");
        var input = JsonTokenInput.Load(path);
        Assert.Equal([[2, 5], [2, 6, 7]], input.Sequences);
        var (ids, mask) = input.AsBatch(padId: 1);
        Assert.Equal(new long[] { 1, 1, 2, 5, 2, 6, 7, 1 }, ids.data<long>().ToArray());
        Assert.Equal(new long[] { 0, 0, 1, 1, 1, 1, 1, 0 }, mask.data<long>().ToArray());
        File.WriteAllText(path, """{"input_ids": [[2, 5]]}""");
        Assert.Equal([[2, 5]], JsonTokenInput.Load(path).Sequences);
        File.WriteAllText(path, """{"input_ids": [[2, 5]], "attention_mask": [[1]]}""");
        var e = Assert.Throws<InvalidDataException>(() => JsonTokenInput.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("row 0 has 2 input_ids but 1 attention_mask", e.Message);
        foreach (var (row, shown) in new[] { ("[2, \"10\", 11]", "\"10\""), ("[2, null]", "null"), ("[2, 1.5]", "1.5"), ("[2, [3]]", "[3]") })
        {
            File.WriteAllText(path, $$"""{"input_ids": [{{row}}]}""");
            Assert.Equal($"{path}: \"input_ids\" row 0, position 1 holds {shown}, not an integer.",
                         Assert.Throws<InvalidDataException>(() => JsonTokenInput.Load(path)).Message);
        }
        File.WriteAllText(path, """{"tokens": [[2, 5]]}""");
        Assert.Equal($"{path}: expected an object with \"input_ids\": [[token ids], …]; found \"tokens\".",
                     Assert.Throws<InvalidDataException>(() => JsonTokenInput.Load(path)).Message);
        File.WriteAllText(path, """[[2, 5]]""");
        Assert.EndsWith("; found a JSON array.", Assert.Throws<InvalidDataException>(() => JsonTokenInput.Load(path)).Message);
        var fixtureInputs = Path.Combine(Fixtures.TinyPreLn, "expected", "inputs.json");
        var near = Assert.Throws<InvalidDataException>(() => JsonTokenInput.Load(fixtureInputs)).Message;
        Assert.Contains("""; found "batch", "stats_sequences", """, near);
        Assert.EndsWith("""(a reference fixture's expected/inputs.json: its "batch" object is such an input).""", near);
    }
}
