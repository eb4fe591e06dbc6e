using System.Text;
using System.Xml.Linq;

namespace OptNeurons.Corpus;

/// <summary>
/// Renders one XML documentation element (a <c>&lt;summary&gt;</c>, <c>&lt;remarks&gt;</c>, <c>&lt;param&gt;</c> or
/// <c>&lt;returns&gt;</c>) as plain English paragraphs, the way a reader sees it:
/// <list type="bullet">
/// <item><c>&lt;see cref="T:System.String"/&gt;</c> → "String"; a member cref → "Type.Member" (a constructor → the
///   type); <c>&lt;see langword="null"/&gt;</c> → "null"; <c>&lt;see href="…"&gt;</c>, <c>&lt;xref&gt;</c> → their text,
///   else the last part of the target; any of these with inner text → that text.</item>
/// <item><c>&lt;paramref name="x"/&gt;</c>, <c>&lt;typeparamref name="T"/&gt;</c> → "x", "T"; <c>&lt;c&gt;code&lt;/c&gt;</c> → "code".</item>
/// <item><c>&lt;code&gt;</c> blocks are dropped: they are C# examples whose layout whitespace normalising would destroy.</item>
/// <item>Block elements (<c>para</c>, list <c>item</c>s, HTML <c>p</c>, <c>li</c>, <c>br</c>, <c>div</c>) end a paragraph.</item>
/// <item>Whitespace runs become one space; paragraphs are trimmed and empty ones dropped.</item>
/// </list>
/// </summary>
public static class XmlDocText
{
    static readonly HashSet<string> Blocks = ["para", "p", "item", "listheader", "li", "br", "div", "list", "ul", "ol"];

    public static IReadOnlyList<string> Paragraphs(XElement element)
    {
        var paragraphs = new List<string>();
        var current = new StringBuilder();
        Render(element.Nodes(), current, paragraphs);
        Flush(current, paragraphs);
        return paragraphs;
    }

    static void Render(IEnumerable<XNode> nodes, StringBuilder current, List<string> paragraphs)
    {
        foreach (var node in nodes)
        {
            if (node is XText text) { current.Append(text.Value); continue; }
            if (node is not XElement e) continue;
            string name = e.Name.LocalName;
            if (name is "code" or "inheritdoc") continue;
            if (Blocks.Contains(name))
            {
                Flush(current, paragraphs);
                Render(e.Nodes(), current, paragraphs);
                Flush(current, paragraphs);
                continue;
            }
            string? reference = name switch
            {
                "paramref" or "typeparamref" => (string?)e.Attribute("name") ?? "",
                "see" or "seealso" or "xref" when e.IsEmpty || string.IsNullOrWhiteSpace(e.Value) => Reference(e),
                _ => null,
            };
            if (reference is not null) current.Append(reference);
            else Render(e.Nodes(), current, paragraphs);  // <c>, <b>, <i>, <a>, <term>, see-with-text, …: keep the text
        }
    }

    static string Reference(XElement e)
    {
        if (e.Attribute("langword") is { } langword) return langword.Value;
        if ((e.Attribute("cref") ?? e.Attribute("uid")) is { } target) return CrefName(target.Value);
        return (string?)e.Attribute("href") ?? "";
    }

    /// <summary>"T:System.Collections.Generic.List`1" → "List"; "M:System.String.Join(System.String,System.String[])" → "String.Join"; "M:System.String.#ctor(System.Char[])" → "String".</summary>
    public static string CrefName(string cref)
    {
        int colon = cref.IndexOf(':');
        string kind = colon is > 0 and <= 8 ? cref[..colon] : "";
        string name = kind.Length > 0 ? cref[(colon + 1)..] : cref;
        int paren = name.IndexOf('(');
        if (paren >= 0) name = name[..paren];
        var parts = name.Split('.').Select(StripArity).Where(p => p.Length > 0).ToArray();
        if (parts.Length == 0) return name;
        if (kind is "" or "T" or "N" or "!" || parts.Length == 1) return parts[^1];
        string member = parts[^1][(parts[^1].LastIndexOf('#') + 1)..];  // explicit interface members: "System#IDisposable#Dispose"
        return parts[^1] is "#ctor" or "#cctor" ? parts[^2] : $"{parts[^2]}.{member}";
    }

    static string StripArity(string part) => part.IndexOf('`') is var tick and >= 0 ? part[..tick] : part;

    static void Flush(StringBuilder current, List<string> paragraphs)
    {
        var text = string.Join(' ', current.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        if (text.Length > 0) paragraphs.Add(text);
        current.Clear();
    }
}
