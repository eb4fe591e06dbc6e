using System.Diagnostics;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace OptNeurons.Corpus;

/// <summary>One document of the SDK docs corpus: all kept text about one type, and the side of the split it is on.</summary>
public sealed record SdkDoc(string Type, string Split, string Text);

/// <summary>Sizes of an extraction. "Raw" counts are before duplicate paragraphs are removed.</summary>
public sealed record SdkDocsStats(
    int Files, int Members, long RawParagraphs, long RawCharacters, long Paragraphs, long Characters,
    int Documents, int TrainDocuments, long TrainCharacters, int AnalysisDocuments, long AnalysisCharacters, double ExtractSeconds);

/// <summary>
/// Turns the SDK's XML API docs into documents:
/// <list type="number">
/// <item>Files in the given order, <c>&lt;member&gt;</c>s in document order; of each member the <c>summary</c>,
///   <c>remarks</c>, <c>param</c> and <c>returns</c> elements, in document order, rendered by <see cref="XmlDocText"/>.</item>
/// <item>A paragraph that already appeared anywhere before is dropped (exact match), so e.g. "The object to compare."
///   is kept once. This is global, so no paragraph is on both sides of the split.</item>
/// <item>Members are grouped by their declaring type ("M:System.String.Join(…)" → "System.String"), in order of
///   first appearance; a type's paragraphs, joined by "\n", are one document.</item>
/// <item>Split by type: a type goes to "analysis" when the FNV-1a 64-bit hash of its UTF-8 name is divisible by
///   <see cref="AnalysisOneIn"/> (about 20% of types), else to "train". Splitting by type rather than by member keeps
///   the near-identical docs of a type's overloads on one side.</item>
/// </list>
/// </summary>
public static class SdkDocsExtractor
{
    public const int AnalysisOneIn = 5;
    public const string Train = "train", Analysis = "analysis";
    static readonly HashSet<string> Kept = ["summary", "remarks", "param", "returns"];

    public static (IReadOnlyList<SdkDoc> Documents, SdkDocsStats Stats) Extract(IReadOnlyList<string> xmlFiles)
    {
        var clock = Stopwatch.StartNew();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var byType = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var order = new List<string>();
        int members = 0;
        long rawParagraphs = 0, rawChars = 0;
        foreach (var file in xmlFiles)
        {
            foreach (var member in Members(file))
            {
                members++;
                string type = TypeOf((string?)member.Attribute("name") ?? "");
                foreach (var paragraph in member.Elements().Where(e => Kept.Contains(e.Name.LocalName)).SelectMany(XmlDocText.Paragraphs))
                {
                    rawParagraphs++;
                    rawChars += paragraph.Length;
                    if (!seen.Add(paragraph)) continue;
                    if (!byType.TryGetValue(type, out var list)) { byType[type] = list = []; order.Add(type); }
                    list.Add(paragraph);
                }
            }
        }
        var docs = order.Select(t => new SdkDoc(t, SplitOf(t), string.Join('\n', byType[t]))).ToList();
        long Chars(string split) => docs.Where(d => d.Split == split).Sum(d => (long)d.Text.Length);
        var stats = new SdkDocsStats(xmlFiles.Count, members, rawParagraphs, rawChars, seen.Count, seen.Sum(p => (long)p.Length),
            docs.Count, docs.Count(d => d.Split == Train), Chars(Train), docs.Count(d => d.Split == Analysis), Chars(Analysis),
            Math.Round(clock.Elapsed.TotalSeconds, 2));
        return (docs, stats);
    }

    public static string SplitOf(string type)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(type)) h = (h ^ b) * 1099511628211UL;
        return h % AnalysisOneIn == 0 ? Analysis : Train;
    }

    /// <summary>"T:A.B" → "A.B"; "M:A.B.C(x)" / "P:A.B.C" / "M:A.B.#ctor" → "A.B" (the type that declares the member).</summary>
    public static string TypeOf(string memberName)
    {
        int colon = memberName.IndexOf(':');
        string kind = colon > 0 ? memberName[..colon] : "";
        string name = memberName[(colon + 1)..];
        int paren = name.IndexOf('(');
        if (paren >= 0) name = name[..paren];
        if (kind is "T" or "N" or "") return name;
        int dot = name.LastIndexOf('.');
        return dot > 0 ? name[..dot] : name;
    }

    static List<XElement> Members(string file)
    {
        var members = new List<XElement>();
        try
        {
            using var reader = XmlReader.Create(file, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            reader.MoveToContent();
            while (!reader.EOF)
            {
                // ReadFrom leaves the reader on the node after the element, which may be the next <member>: no Read() then.
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "member") members.Add((XElement)XNode.ReadFrom(reader));
                else reader.Read();
            }
        }
        catch (XmlException e) { throw new InvalidDataException($"{file}: not valid XML documentation ({e.Message}).", e); }
        return members;
    }
}
