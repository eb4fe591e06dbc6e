using System.Text;
using OptNeurons.Runtime;

namespace OptNeurons.Notebooks;

/// <summary>index.html: every notebook of the run with its status and duration, linking its page and .ipynb.</summary>
static class IndexPage
{
    public static void Write(RunReport report, IReadOnlyDictionary<string, string> settings, string path)
    {
        var rows = new StringBuilder();
        foreach (var n in report.Notebooks)
        {
            var status = n.Succeeded ? "<span class=\"pass\">passed</span>"
                : $"<span class=\"fail\">failed at cell {n.Failure!.Cell}</span><pre class=\"error\">{HtmlPage.Encode(Shorten(n.Failure.Error))}</pre>";
            rows.Append($"<tr><td><a href=\"{Uri.EscapeDataString(Path.GetFileName(n.HtmlPath))}\">{HtmlPage.Encode(n.Name)}</a></td>")
                .Append($"<td>{status}</td><td>{n.Duration.TotalSeconds:F1} s</td>")
                .Append($"<td><a href=\"{Uri.EscapeDataString(Path.GetFileName(n.IpynbPath))}\">.ipynb</a></td></tr>\n");
        }
        // The settings this run chose; the paths the runner adds itself are the same for every run.
        var chosen = settings.Where(s => s.Key.StartsWith("OPTNEURONS_", StringComparison.Ordinal) && s.Key != NotebookRunner.BinVariable && s.Key != "OPTNEURONS_REPO")
                             .Select(s => $"<code>{HtmlPage.Encode(s.Key)}={HtmlPage.Encode(s.Value)}</code>").ToList();
        var shown = chosen.Count > 0 ? string.Join(" ", chosen) : "the defaults (each notebook's banner says which model)";
        var page = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>OptNeurons notebooks</title>")
            .Append("<style>").Append(PageStyle.Css).Append("</style></head><body><main>")
            .Append("<h1>OptNeurons notebooks</h1>")
            .Append($"<p>{report.Notebooks.Count(n => n.Succeeded)} of {report.Notebooks.Count} passed in {report.Duration.TotalSeconds:F1} s")
            .Append($" ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC). Settings: {shown}.</p>")
            .Append("<table class=\"frame index\"><thead><tr><th>notebook</th><th>status</th><th>time</th><th></th></tr></thead><tbody>")
            .Append(rows)
            .Append("</tbody></table></main></body></html>\n");
        AtomicFile.WriteAllText(path, page.ToString());
    }

    static string Shorten(string text) => text.Length <= 600 ? text : text[..600] + " …";
}
