using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Data.Analysis;

namespace OptNeurons.Plots;

/// <summary>
/// DataFrames as small HTML tables. Microsoft.Data.Analysis's own notebook formatter embeds every row; this one shows
/// the first <c>maxRows</c> and says how many were left out, and formats numbers compactly.
/// </summary>
public static class Tables
{
    public static string ToHtml(DataFrame frame, int maxRows = 20)
    {
        var html = new StringBuilder("<table class=\"frame\"><thead><tr>");
        foreach (var column in frame.Columns) html.Append("<th>").Append(WebUtility.HtmlEncode(column.Name)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        long shown = Math.Min(frame.Rows.Count, maxRows);
        for (long r = 0; r < shown; r++)
        {
            html.Append("<tr>");
            foreach (var column in frame.Columns) html.Append("<td>").Append(WebUtility.HtmlEncode(Format(column[r]))).Append("</td>");
            html.Append("</tr>");
        }
        html.Append("</tbody></table>");
        if (frame.Rows.Count > shown)
            html.Append(CultureInfo.InvariantCulture, $"<p class=\"frame-note\">{shown} of {frame.Rows.Count} rows shown.</p>");
        return html.ToString();
    }

    /// <summary>Numbers to 4 significant digits (0.1235, 1.235E-05), everything else as ToString; null as empty.</summary>
    public static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("G4", CultureInfo.InvariantCulture),
        float f => f.ToString("G4", CultureInfo.InvariantCulture),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
