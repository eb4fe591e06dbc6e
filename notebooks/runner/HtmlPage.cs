using System.Net;
using System.Text;
using Markdig;
using OptNeurons.Plots;
using OptNeurons.Runtime;

namespace OptNeurons.Notebooks;

/// <summary>
/// One executed notebook as a self-contained page: markdown rendered, code, outputs, and charts drawn by plotly.js,
/// which is inlined once in the head, so the page opens offline and fetches nothing.
/// </summary>
static class HtmlPage
{
    static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();

    public static void Write(NotebookResult result, string path)
    {
        var body = new StringBuilder();
        bool hasCharts = false;
        foreach (var cell in result.Cells)
        {
            if (!cell.IsCode)
            {
                body.Append("<section class=\"markdown\">").Append(Markdig.Markdown.ToHtml(cell.Source, Markdown)).Append("</section>\n");
                continue;
            }
            var state = !cell.Ran ? "skipped" : result.Failure?.Cell == cell.Number ? "failed" : "ok";
            body.Append($"<section class=\"code {state}\" id=\"cell-{cell.Number}\"><div class=\"cell-head\">[{cell.Number}]")
                .Append(cell.Ran ? $" {cell.Duration.TotalSeconds:F1} s" : " not run").Append("</div>")
                .Append("<pre class=\"source\"><code>").Append(Encode(cell.Source)).Append("</code></pre>");
            foreach (var output in cell.Outputs)
            {
                hasCharts |= output is DisplayOutput d && d.Data.ContainsKey(ChartOutput.PlotlyMimeType);
                body.Append("<div class=\"output\">").Append(Render(output)).Append("</div>");
            }
            body.Append("</section>\n");
        }

        var page = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<title>").Append(Encode(result.Name)).Append("</title><style>").Append(PageStyle.Css).Append("</style>");
        if (hasCharts) page.Append("<script type=\"text/javascript\">").Append(ChartOutput.PlotlyJs()).Append("</script>");
        page.Append("</head><body><main>")
            .Append("<nav><a href=\"index.html\">All notebooks</a> · ").Append(Encode(result.Name)).Append(" · ")
            .Append(result.Succeeded ? "<span class=\"pass\">ran without errors</span>" : $"<span class=\"fail\">failed at <a href=\"#cell-{result.Failure!.Cell}\">cell {result.Failure.Cell}</a></span>")
            .Append($" · {result.Duration.TotalSeconds:F1} s</nav>\n")
            .Append(body)
            .Append("</main></body></html>\n");
        AtomicFile.WriteAllText(path, page.ToString());
    }

    /// <summary>The richest form we can show offline: the plotly figure, then HTML, markdown, plain text.</summary>
    static string Render(CellOutput output) => output switch
    {
        DisplayOutput d when d.Data.TryGetValue(ChartOutput.PlotlyMimeType, out var figure) => ChartOutput.PageHtml(figure),
        DisplayOutput d when d.Data.TryGetValue("text/html", out var html) => html,
        DisplayOutput d when d.Data.TryGetValue("text/markdown", out var md) => Markdig.Markdown.ToHtml(md, Markdown),
        DisplayOutput d => $"<pre>{Encode(d.Data.Values.FirstOrDefault() ?? "")}</pre>",
        StreamOutput s => $"<pre class=\"{s.Name}\">{Encode(s.Text)}</pre>",
        ErrorOutput e => $"<pre class=\"error\">{Encode(e.Message)}</pre>",
        _ => "",
    };

    internal static string Encode(string text) => WebUtility.HtmlEncode(text);
}
