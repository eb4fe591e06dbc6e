using OptNeurons.Tests.Support;
using OptNeurons.Tokenization;
using OptNeurons.Training;

namespace OptNeurons.Tests.Training;

public class TrainingTextTests
{
    [Fact]
    public void HeldOutStart_IsTheLineBreakAfterTheCut()
    {
        var text = string.Concat(Enumerable.Range(0, 20).Select(i => $"line {i:D2}\n"));   // 20 lines of 8 characters
        Assert.Equal(152, TrainingText.HeldOutStart(text, 0.05));   // 5 % of 160 = 8: the last line
        Assert.Equal(144, TrainingText.HeldOutStart(text, 0.1));
        Assert.Equal(95, TrainingText.HeldOutStart(new string('x', 100), 0.05));   // no line break: cut where it falls
    }

    [Fact]
    public void Load_HoldsOutEachFilesTail_AndJoinsFilesWithEos()
    {
        using var temp = new TempDirectory();
        HfSnapshot.EnsureTokenizer(temp.Sub("tok"));   // OPT's files, generated once per test process
        var tokenizer = OptTokenizer.FromDirectory(temp.Sub("tok"));
        Directory.CreateDirectory(temp.Sub("texts"));
        File.WriteAllText(temp.Sub("texts/a.txt"), string.Concat(Enumerable.Repeat("I like you.\n", 19)) + "A photo of a cat\n");
        File.WriteAllText(temp.Sub("texts/b.txt"), string.Concat(Enumerable.Repeat("I like you.\n", 20)));
        File.WriteAllText(temp.Sub("texts/notes.md"), "not text");
        var files = TrainingText.Files([temp.Sub("texts")]);
        Assert.Equal(["a.txt", "b.txt"], files.Select(Path.GetFileName));
        var data = TrainingText.Load(files, tokenizer, heldOutFraction: 0.1);
        // a.txt: 245 characters, cut at 220 → its last line; b.txt: 240, cut at 216 → its last two lines.
        // "I like you.\n" is 100 101 47 4 50118 (OPT ids checked in the tokenizer tests).
        int[] like = [100, 101, 47, 4, 50118];
        Assert.Equal([250, 1345, 9, 10, 4758, 50118, 2, .. like, .. like], data.HeldOut);
        Assert.Equal(19 * 5 + 1 + 18 * 5, data.Train.Length);
        Assert.Equal(2, data.Train[19 * 5]);
        Assert.Contains("a.txt (95 + 6), b.txt (90 + 10)", data.Description);
    }
}
