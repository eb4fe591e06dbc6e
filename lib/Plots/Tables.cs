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
    /// <summary>
    /// Rows (a findings record per layer, per neuron, …) as a DataFrame with one column per public property, in
    /// declaration order: numbers and booleans keep their type, lists are joined with ", ", everything else is text.
    /// </summary>
    public static DataFrame Of<T>(IEnumerable<T> rows)
    {
        var list = rows.ToList();
        var columns = typeof(T).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
            .Select(p => Column(p.Name, p.PropertyType, list.Select(r => p.GetValue(r))));
        return new DataFrame(columns);
    }

    static DataFrameColumn Column(string name, Type type, IEnumerable<object?> values) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(int) => new Int32DataFrameColumn(name, values.Select(v => (int?)v)),
        var t when t == typeof(long) => new Int64DataFrameColumn(name, values.Select(v => (long?)v)),
        var t when t == typeof(double) => new DoubleDataFrameColumn(name, values.Select(v => (double?)v)),
        var t when t == typeof(float) => new SingleDataFrameColumn(name, values.Select(v => (float?)v)),
        var t when t == typeof(bool) => new BooleanDataFrameColumn(name, values.Select(v => (bool?)v)),
        _ => new StringDataFrameColumn(name, values.Select(Text)),
    };

    static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        System.Collections.IEnumerable items => string.Join(", ", items.Cast<object?>().Select(Format)),
        _ => Format(value),
    };

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
