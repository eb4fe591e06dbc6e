using System.Text.Json.Nodes;
using Plotly.NET;

namespace OptNeurons.Plots;

/// <summary>
/// How a chart leaves the process: as plotly's figure JSON (data, layout, config), as HTML for notebook front ends, and
/// as HTML for a page that already carries plotly.js. plotly.js itself comes from Plotly.NET's assembly, so a page can
/// inline it and open offline.
/// </summary>
public static class ChartOutput
{
    /// <summary>The MIME type Jupyter front ends (and VS Code's renderers) draw with their own bundled plotly.js.</summary>
    public const string PlotlyMimeType = "application/vnd.plotly.v1+json";

    const string ResourcePrefix = "Plotly.NET.plotly-";
    const string ResourceSuffix = ".min.js";

    /// <summary>The plotly.js version Plotly.NET ships (e.g. "2.28.0").</summary>
    public static string PlotlyJsVersion { get; } = PlotlyResourceName()[ResourcePrefix.Length..^ResourceSuffix.Length];

    /// <summary>plotly.min.js (~3.5 MB), read from Plotly.NET's embedded copy.</summary>
    public static string PlotlyJs()
    {
        using var stream = typeof(GenericChart).Assembly.GetManifestResourceStream(PlotlyResourceName())!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>{"data": [...], "layout": {...}, "config": {...}}: everything plotly.newPlot needs.</summary>
    public static string FigureJson(GenericChart chart)
    {
        var figure = JsonNode.Parse(GenericChart.toFigureJson(chart))!.AsObject();
        figure["config"] = new JsonObject { ["responsive"] = true, ["displaylogo"] = false };
        return figure.ToJsonString();
    }

    /// <summary>
    /// For notebook front ends: draws with the page's plotly.js when there is one, else loads it from plotly's CDN
    /// (VS Code and Jupyter give each output its own frame, and neither ships plotly.js to text/html outputs).
    /// </summary>
    public static string NotebookHtml(GenericChart chart)
    {
        var id = NewId();
        return $$"""
            <div id="{{id}}"></div>
            <script type="text/javascript">
            (function () {
              var figure = {{FigureJson(chart)}};
              var draw = function () { Plotly.newPlot('{{id}}', figure.data, figure.layout, figure.config); };
              if (typeof Plotly !== 'undefined') { draw(); return; }
              var script = document.createElement('script');
              script.src = 'https://cdn.plot.ly/plotly-{{PlotlyJsVersion}}.min.js';
              script.onload = draw;
              document.head.appendChild(script);
            })();
            </script>
            """;
    }

    /// <summary>For a page that loads plotly.js itself (once, in its head): a div and the newPlot call, nothing fetched.</summary>
    public static string PageHtml(string figureJson)
    {
        var id = NewId();
        return $$"""
            <div id="{{id}}" class="chart"></div>
            <script type="text/javascript">
            (function () { var f = {{figureJson}}; Plotly.newPlot('{{id}}', f.data, f.layout, f.config); })();
            </script>
            """;
    }

    static string NewId() => "chart-" + Guid.NewGuid().ToString("N")[..12];

    static string PlotlyResourceName() =>
        typeof(GenericChart).Assembly.GetManifestResourceNames()
            .Single(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(ResourceSuffix, StringComparison.Ordinal));
}
