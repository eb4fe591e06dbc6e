using System.Xml.Linq;
using OptNeurons.Corpus;
using OptNeurons.Tests.Support;

namespace OptNeurons.Tests.Corpus;

public class SdkDocsTests
{
    const string Head = """<?xml version="1.0" encoding="utf-8"?><doc><assembly><name>A</name></assembly><members>""";
    const string Tail = "</members></doc>";

    const string FileA = Head + """
        <member name="T:Lib.Widget">
          <summary>Represents a <see cref="T:System.String" /> holder.   Use
            <paramref name="x" /> with <c>Widget.Make()</c>.</summary>
          <remarks>
            <para>First paragraph.</para>
            <para>Returns <see langword="null" /> when <see cref="M:Lib.Widget.Make(System.Int32)" /> fails.</para>
            <code>var w = new Widget();</code>
          </remarks>
        </member>
        <member name="M:Lib.Widget.#ctor(System.Int32)">
          <summary>Initializes a new <see cref="T:Lib.Widget" />.</summary>
          <param name="size">The size.</param>
          <exception cref="T:System.ArgumentException">Never extracted.</exception>
        </member>
        <member name="M:Lib.Widget.Make(System.Int32)">
          <summary>Makes a <see cref="T:System.Collections.Generic.List`1">list of widgets</see>.</summary>
          <param name="size">The size.</param>
          <returns>A new <see cref="M:Lib.Widget.#ctor(System.Int32)" />.</returns>
        </member>
        <member name="T:Lib.Gadget`1">
          <summary>Gadget <typeparamref name="T"/> thing <see href="https://example.com" />.</summary>
        </member>
        """ + Tail;

    const string FileB = Head + """
        <member name="P:Lib.Gadget`1.Count">
          <summary>The size.</summary>
          <value>Not extracted.</value>
        </member>
        <member name="F:Lib.Other.Zero"><summary>Zero <see cref="F:Lib.Other.Zero"/> here<inheritdoc/>.</summary></member>
        """ + Tail;

    static string[] WriteSample(string dir)
    {
        string a = Path.Combine(dir, "A.xml"), b = Path.Combine(dir, "B.xml");
        File.WriteAllText(a, FileA);
        File.WriteAllText(b, FileB);
        return [a, b];
    }

    [Fact]
    public void Extract_RendersInlineTags_DropsDuplicates_AndGroupsByType()
    {
        using var dir = new TempDirectory();
        var (docs, stats) = SdkDocsExtractor.Extract(WriteSample(dir.Path));
        Assert.Equal(
        [
            new SdkDoc("Lib.Widget", "train", string.Join('\n',
                "Represents a String holder. Use x with Widget.Make().", "First paragraph.", "Returns null when Widget.Make fails.",
                "Initializes a new Widget.", "The size.", "Makes a list of widgets.", "A new Widget.")),
            new SdkDoc("Lib.Gadget`1", "train", "Gadget T thing https://example.com."),
            new SdkDoc("Lib.Other", "analysis", "Zero Other.Zero here."),
        ], docs);
        Assert.Equal((2, 6, 11L, 9L, 3, 2, 1), (stats.Files, stats.Members, stats.RawParagraphs, stats.Paragraphs, stats.Documents, stats.TrainDocuments, stats.AnalysisDocuments));
        Assert.Equal(docs.Sum(d => d.Text.Length) - 6, stats.Characters);  // 6 "\n" joins are not paragraph text
        Assert.Equal(docs.Where(d => d.Split == "analysis").Sum(d => (long)d.Text.Length), stats.AnalysisCharacters);
        Assert.Equal(docs, SdkDocsExtractor.Extract(WriteSample(dir.Path)).Documents);
    }

    [Theory]
    [InlineData("T:System.String", "String")]
    [InlineData("M:System.String.Join(System.String,System.String[])", "String.Join")]
    [InlineData("M:System.String.#ctor(System.Char[])", "String")]
    [InlineData("T:System.Collections.Generic.List`1", "List")]
    [InlineData("M:System.Linq.Enumerable.Select``2(System.Collections.Generic.IEnumerable{``0})", "Enumerable.Select")]
    [InlineData("M:System.String.System#IComparable#CompareTo(System.Object)", "String.CompareTo")]
    [InlineData("System.Diagnostics.Activity", "Activity")]
    public void CrefName_IsWhatAReaderSees(string cref, string expected) => Assert.Equal(expected, XmlDocText.CrefName(cref));

    [Fact]
    public void Split_IsAStableHashOfTheTypeName_SendingAboutOneInFiveToAnalysis()
    {
        // FNV-1a 64 mod 5, computed independently in Python: Lib.Other → 0, System.String → 2, System.Object → 1.
        Assert.Equal(("analysis", "train", "train"), (SdkDocsExtractor.SplitOf("Lib.Other"), SdkDocsExtractor.SplitOf("System.String"), SdkDocsExtractor.SplitOf("System.Object")));
        int analysis = Enumerable.Range(0, 2000).Count(i => SdkDocsExtractor.SplitOf($"Ns.Type{i}") == "analysis");
        Assert.InRange(analysis, 330, 470);
        Assert.Equal("System.String", SdkDocsExtractor.TypeOf("M:System.String.System#IComparable#CompareTo(System.Object)"));
        Assert.Equal("System.Linq.Enumerable", SdkDocsExtractor.TypeOf("M:System.Linq.Enumerable.Select``2(System.Func{``0,``1})"));
    }

    [Fact]
    public void Corpus_IsCachedAtomically_AndItsPartsAreDisjoint()
    {
        using var dir = new TempDirectory();
        var source = new SdkDocsSource(dir.Path, ["Test.Ref/1.0.0/net10.0"], WriteSample(dir.Path));
        var cache = Path.Combine(dir.Path, "cache");
        var all = SdkDocsCorpus.Open(source, SdkDocsPart.All, cache);
        Assert.Equal(Path.Combine(cache, "sdk-docs", "v1-Test.Ref-1.0.0-net10.0.jsonl"), all.CacheFile);
        Assert.Equal(["sdk-docs", "v1-Test.Ref-1.0.0-net10.0.jsonl", "v1-Test.Ref-1.0.0-net10.0.stats.json"],
            Directory.EnumerateFileSystemEntries(cache, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var f in source.Files) File.Delete(f);  // a cache hit must not need the XML any more
        var train = SdkDocsCorpus.Open(source, SdkDocsPart.Train, cache).Documents().Select(d => d.Text).ToList();
        var analysis = SdkDocsCorpus.Open(source, SdkDocsPart.Analysis, cache).Documents().Select(d => d.Text).ToList();
        Assert.Equal(["Zero Other.Zero here."], analysis);
        Assert.Equal(2, train.Count);
        Assert.Equal(all.Documents().Select(d => d.Text).Order(), train.Concat(analysis).Order());
        Assert.Equal("sdk-docs:v1-Test.Ref-1.0.0-net10.0 (analysis)", SdkDocsCorpus.Open(source, SdkDocsPart.Analysis, cache).Source);
        Assert.Equal(6, all.Stats.Members);
    }

    [Fact]
    public void Locator_PicksTheHighestVersionAndFramework_WithXmlDocs()
    {
        using var dir = new TempDirectory();
        string pack = Path.Combine(dir.Path, "packs", "Microsoft.NETCore.App.Ref");
        void Xml(string version, string tfm, string name) { var d = Path.Combine(pack, version, "ref", tfm); Directory.CreateDirectory(d); File.WriteAllText(Path.Combine(d, name), "<doc/>"); }
        Xml("9.0.5", "net9.0", "a.xml");
        Xml("10.0.9", "net10.0", "a.xml");
        Xml("10.0.12", "net10.0", "b.xml");
        Xml("10.0.12", "net10.0", "B.xml");
        Xml("10.0.12", "net9.0", "c.xml");
        Xml("10.0.12-rc.1", "net10.0", "a.xml");
        Directory.CreateDirectory(Path.Combine(pack, "10.0.13", "ref", "net10.0"));  // no docs: not a candidate
        var found = SdkDocsLocator.Find(dir.Path)!;
        Assert.Equal(["Microsoft.NETCore.App.Ref/10.0.12/net10.0"], found.Packs);
        Assert.Equal(["B.xml", "b.xml"], found.Files.Select(Path.GetFileName));
        Assert.Equal("NETCore.App.Ref-10.0.12-net10.0", found.CacheKey);
        Assert.Null(SdkDocsLocator.Find(Path.Combine(dir.Path, "packs")));
    }
}
