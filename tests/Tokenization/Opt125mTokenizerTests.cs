using System.Text.Json;
using OptNeurons.Tests.Support;
using OptNeurons.Tokenization;

namespace OptNeurons.Tests.Tokenization;

/// <summary>Tier 2: runs only where a real facebook/opt-125m snapshot is on disk (see <see cref="Opt125mSnapshot"/>).</summary>
public sealed class Opt125mTokenizerTests
{
    static string Snapshot => Opt125mSnapshot.Find("vocab.json", "merges.txt")!;

    [CheckpointFact("vocab.json", "merges.txt")]
    public void RealSnapshot_GivesHfsIds()
    {
        var tok = OptTokenizer.FromDirectory(Snapshot);
        Assert.Equal([2, 100, 101, 47, 4], tok.Encode("I like you."));
        Assert.Equal([2, 250, 1345, 9, 10, 4758], tok.Encode("A photo of a cat"));
        Assert.Equal((50265, 2, 1), (tok.VocabularySize, tok.BosId, tok.PadId));
    }

    [CheckpointFact("vocab.json", "merges.txt")]
    public void WrittenOptFiles_EqualTheRealOnes()
    {
        // The offline writer's id layout (fairseq's dictionary order) checked entry by entry against OPT's own files.
        var dir = Path.Combine(Path.GetTempPath(), "optneurons-optfiles-" + Guid.NewGuid().ToString("N"));
        try
        {
            Gpt2VocabularyFiles.WriteOptFiles(dir);
            static Dictionary<string, int> Vocab(string d) =>
                JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllBytes(Path.Combine(d, "vocab.json")))!;
            var real = Vocab(Snapshot);
            var written = Vocab(dir);
            Assert.Equal(real.OrderBy(kv => kv.Value), written.OrderBy(kv => kv.Value));
            static IEnumerable<string> Merges(string d) =>
                File.ReadLines(Path.Combine(d, "merges.txt")).Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal));
            Assert.Equal(Merges(Snapshot), Merges(dir));
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
