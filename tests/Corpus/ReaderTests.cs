using System.IO.Compression;
using OptNeurons.Corpus;
using OptNeurons.Tests.Support;
using Parquet;
using Parquet.Schema;

namespace OptNeurons.Tests.Corpus;

public class ReaderTests
{
    [Fact]
    public void TextFolder_ReadsFilesInOrdinalOrder_AndSplitsOnBlankLineRuns()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(dir.Path, "sub"));
        File.WriteAllText(Path.Combine(dir.Path, "b.txt"), "p1 line1\r\np1 line2\r\n\r\n  \r\np2\n\n\n\np3\n");
        File.WriteAllText(Path.Combine(dir.Path, "a.txt"), "alpha");
        File.WriteAllText(Path.Combine(dir.Path, "sub", "c.txt"), "  \n");
        File.WriteAllText(Path.Combine(dir.Path, "notes.md"), "ignored");
        var whole = new TextCorpus(dir.Path).Documents().ToList();
        Assert.Equal(["a.txt", "b.txt"], whole.Select(d => d.Id));  // sub/c.txt is blank
        Assert.Equal("p1 line1\np1 line2\n\n  \np2\n\n\n\np3\n", whole[1].Text);
        var split = new TextCorpus(dir.Path, TextSplit.BlankLines).Documents().ToList();
        Assert.Equal(["a.txt#0", "b.txt#0", "b.txt#1", "b.txt#2"], split.Select(d => d.Id));
        Assert.Equal(["alpha", "p1 line1\np1 line2", "p2", "p3"], split.Select(d => d.Text));
        Assert.Contains("nowhere", Assert.Throws<FileNotFoundException>(() => new TextCorpus(Path.Combine(dir.Path, "nowhere")).Documents().ToList()).Message);
        Directory.CreateDirectory(Path.Combine(dir.Path, "empty"));
        Assert.Contains(Path.Combine(dir.Path, "empty"), Assert.Throws<InvalidDataException>(() => new TextCorpus(Path.Combine(dir.Path, "empty")).Documents().ToList()).Message);
    }

    [Fact]
    public void JsonLines_ReadsTheNamedField_FiltersOnADottedPath_AndReadsGzip()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "val.jsonl");
        string[] lines = [
            """{"text": "wiki one", "meta": {"pile_set_name": "Wikipedia (en)"}}""", "",
            """{"text": "math", "meta": {"pile_set_name": "DM Mathematics"}}""",
            """{"text": "wiki\r\ntwo", "meta": {"pile_set_name": "Wikipedia (en)"}}"""];
        File.WriteAllLines(path, lines);
        Assert.Equal(["wiki one", "math", "wiki\r\ntwo"], new JsonLinesCorpus(path).Documents().Select(d => d.Text));
        var wiki = new JsonLinesCorpus(path, "text", new FieldMatch("meta.pile_set_name", "Wikipedia (en)"));
        Assert.Equal(["val.jsonl:1", "val.jsonl:4"], wiki.Documents().Select(d => d.Id));
        Assert.Equal($"jsonl:{path}[text] where meta.pile_set_name == Wikipedia (en)", wiki.Source);
        var gz = path + ".gz";
        using (var z = new GZipStream(File.Create(gz), CompressionLevel.Fastest)) using (var w = new StreamWriter(z)) w.Write(string.Join("\n", lines));
        var wikiGz = new JsonLinesCorpus(gz, "text", new FieldMatch("meta.pile_set_name", "Wikipedia (en)")).Documents().ToList();
        Assert.Equal(["val.jsonl.gz:1", "val.jsonl.gz:4"], wikiGz.Select(d => d.Id));
        Assert.Equal(["wiki one", "wiki\r\ntwo"], wikiGz.Select(d => d.Text));
    }

    [Fact]
    public void JsonLines_Errors_NameTheFileLineAndField()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "bad.jsonl");
        File.WriteAllLines(path, ["""{"text": "ok"}""", """{"content": "code"}"""]);
        var e = Assert.Throws<InvalidDataException>(() => new JsonLinesCorpus(path).Documents().ToList());
        Assert.Equal($"{path}:2: no field \"text\"; expected each record to hold its text there.", e.Message);
        File.WriteAllLines(path, ["""{"text": 5}"""]);
        Assert.Equal($"{path}:1: field \"text\" is Number, expected a string.", Assert.Throws<InvalidDataException>(() => new JsonLinesCorpus(path).Documents().ToList()).Message);
        File.WriteAllLines(path, ["""{"text": "ok"""]);
        Assert.StartsWith($"{path}:1: not valid JSON", Assert.Throws<InvalidDataException>(() => new JsonLinesCorpus(path).Documents().ToList()).Message);
    }

    [Fact]
    public async Task Parquet_ReadsAStringColumn_SkipsNulls_AndNamesTheFileOnErrors()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "0000.parquet");
        await WriteParquet(path, [["first row", null, "third\r\nrow"], ["fourth"]]);
        var corpus = new ParquetCorpus(path);
        Assert.Equal([new Document("0000.parquet:0", "first row"), new("0000.parquet:2", "third\r\nrow"), new("0000.parquet:3", "fourth")], corpus.Documents());
        var missing = Assert.Throws<InvalidDataException>(() => new ParquetCorpus(path, "content").Documents().ToList());
        Assert.Equal($"{path}: no top-level column \"content\"; columns are text, n.", missing.Message);
        var wrongType = Assert.Throws<InvalidDataException>(() => new ParquetCorpus(path, "n").Documents().ToList());
        Assert.Equal($"{path}: column \"n\" holds Int32, expected strings.", wrongType.Message);
        var notParquet = Path.Combine(dir.Path, "x.parquet");
        File.WriteAllText(notParquet, "plain text, not parquet");
        Assert.StartsWith($"{notParquet}: not a readable Parquet file", Assert.Throws<InvalidDataException>(() => new ParquetCorpus(notParquet).Documents().ToList()).Message);
    }

    /// <summary>A file with a nullable string column "text" and an int column "n", one row group per array.</summary>
    static async Task WriteParquet(string path, string?[][] rowGroups)
    {
        var text = new DataField<string>("text", nullable: true);
        var n = new DataField<int>("n");
        await using var stream = File.Create(path);
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema(text, n), stream);
        int row = 0;
        foreach (var group in rowGroups)
        {
            using var g = writer.CreateRowGroup();
            await g.WriteAsync(text, group);
            await g.WriteAsync(n, (ReadOnlyMemory<int>)Enumerable.Range(row, group.Length).ToArray());
            row += group.Length;
        }
    }
}
