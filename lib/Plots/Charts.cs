using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.LayoutObjects;
using OptNeurons.Findings;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace OptNeurons.Plots;

/// <summary>One neuron in <see cref="Charts.NeuronScatter"/>: where it sits and what kind it is.</summary>
public readonly record struct NeuronPoint(int Layer, int Neuron, string Category);

/// <summary>
/// The findings' charts, each one call from a notebook cell: <c>Charts.PerLayer("Deep layers have few dead neurons",
/// deadPercent, "dead neurons (% of layer)")</c>. The first argument is always the claim the chart supports; it becomes
/// the title. Styling lives in <see cref="HouseStyle"/>.
/// </summary>
public static class Charts
{
    /// <summary>Past this many points a scatter draws with WebGL; SVG gets slow beyond a few tens of thousands.</summary>
    public const int WebGlThreshold = 20_000;

    /// <summary>One value per layer as a line (or bars), x = layer number or relative depth l / (L − 1).</summary>
    public static GenericChart PerLayer(string claim, IReadOnlyList<double> values, string yTitle, string model = "",
                                        bool relativeDepth = false, bool bars = false)
    {
        var x = LayerAxis(values.Count, relativeDepth);
        var color = Color.fromString(HouseStyle.ModelColor(model));
        var chart = bars
            ? CSharpChart.Column<double, double, string>(values, Keys: x, Name: model, MarkerColor: color)
            : CSharpChart.Line<double, double, string>(x, values, ShowMarkers: true, Name: model, MarkerColor: color, LineColor: color);
        return HouseStyle.Apply(chart, claim, LayerTitle(relativeDepth), yTitle, relativeDepth ? null : LayerStep(values.Count));
    }

    /// <summary>Stacked bars of neuron categories per layer; each category's values are indexed by layer.</summary>
    public static GenericChart StackedByLayer(string claim, IReadOnlyDictionary<string, IReadOnlyList<double>> categories, string yTitle)
    {
        var traces = categories.Select(c => CSharpChart.StackedColumn<double, int, string>(
            c.Value, Keys: Enumerable.Range(0, c.Value.Count).ToArray(), Name: c.Key, MarkerColor: Color.fromString(HouseStyle.CategoryColor(c.Key))));
        var layers = categories.Values.Select(v => v.Count).DefaultIfEmpty(0).Max();
        var chart = HouseStyle.Apply(CSharpChart.Combine(traces), claim, LayerTitle(false), yTitle, LayerStep(layers));
        return WithLayout(chart, "barmode", "stack");
    }

    /// <summary>
    /// Heatmap of a value (e.g. firing frequency) against token position: one row per neuron (or layer), one column per
    /// position. <paramref name="rowLabels"/> name the rows ("L3 N1021"); null numbers them.
    /// </summary>
    public static GenericChart PositionHeatmap(string claim, IReadOnlyList<IReadOnlyList<double>> rows, string zTitle = "firing frequency",
                                               IReadOnlyList<string>? rowLabels = null, string yTitle = "neuron")
    {
        if (rows.Count == 0) throw new ArgumentException("there are no rows to draw.", nameof(rows));
        var positions = Enumerable.Range(0, rows.Max(r => r.Count)).ToArray();
        string[] labels = rowLabels?.ToArray() ?? Enumerable.Range(0, rows.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var chart = CSharpChart.Heatmap<double, int, string, string>(rows, X: positions, Y: labels, ColorScale: StyleParam.Colorscale.Viridis);
        chart = MapTraces(chart, t => t.SetProperty("colorbar", new Dictionary<string, object> { ["title"] = new Dictionary<string, object> { ["text"] = zTitle } }));
        return HouseStyle.Apply(chart, claim, "token position (0 = first token)", yTitle);
    }

    /// <summary>Every listed neuron as a point at (layer, neuron index), coloured by category; WebGL for large sets.</summary>
    public static GenericChart NeuronScatter(string claim, IReadOnlyCollection<NeuronPoint> neurons)
    {
        bool webGl = neurons.Count > WebGlThreshold;
        var traces = neurons.GroupBy(n => n.Category).OrderBy(g => CategoryRank(g.Key)).Select(g => CSharpChart.Point<int, int, string>(
            g.Select(n => n.Layer), g.Select(n => n.Neuron), Name: g.Key, MarkerColor: Color.fromString(HouseStyle.CategoryColor(g.Key)), UseWebGL: webGl));
        var layers = neurons.Count == 0 ? 0 : neurons.Max(n => n.Layer) + 1;
        return HouseStyle.Apply(CSharpChart.Combine(traces), claim, LayerTitle(false), "neuron index in the layer", LayerStep(layers));
    }

    /// <summary>
    /// One line per model over relative depth (default) or layer, each in its <see cref="HouseStyle.ModelColor"/>, so models
    /// of different depths share one x axis. A key ending in <see cref="PaperSuffix"/> is a curve read off the paper's
    /// figure: dashed, in its size's colour, so the paper's 125m and a computed 125m differ by line style only. Any other
    /// key whose colour an earlier line already took (two models of the project, say) or that names no model ("new
    /// overall") takes the next unused colour of <see cref="HouseStyle.SeriesColors"/>: no two computed lines look alike.
    /// </summary>
    public static GenericChart ModelsOverlay(string claim, IReadOnlyDictionary<string, IReadOnlyList<double>> perModel, string yTitle, bool relativeDepth = true)
    {
        var taken = new HashSet<string>();
        var traces = perModel.Select(m =>
        {
            bool fromPaper = m.Key.EndsWith(PaperSuffix, StringComparison.Ordinal);
            var color = HouseStyle.ModelColor(m.Key);
            if (!fromPaper)
            {
                if (color == HouseStyle.OtherColor || taken.Contains(color))
                    color = HouseStyle.SeriesColors.FirstOrDefault(c => !taken.Contains(c)) ?? HouseStyle.OtherColor;
                taken.Add(color);
            }
            // NaN marks a value that is not known (a marker unread in a paper's figure): no point is drawn there.
            var points = LayerAxis(m.Value.Count, relativeDepth).Zip(m.Value).Where(p => !double.IsNaN(p.Second)).ToArray();
            return CSharpChart.Line<double, double, string>(points.Select(p => p.First), points.Select(p => p.Second), ShowMarkers: true, Name: m.Key,
                                                             MarkerColor: Color.fromString(color), LineColor: Color.fromString(color),
                                                             LineDash: fromPaper ? StyleParam.DrawingStyle.Dash : StyleParam.DrawingStyle.Solid);
        }).ToArray();
        var layers = perModel.Values.Select(v => v.Count).DefaultIfEmpty(0).Max();
        return HouseStyle.Apply(CSharpChart.Combine(traces), claim, LayerTitle(relativeDepth), yTitle, relativeDepth ? null : LayerStep(layers));
    }

    /// <summary>How <see cref="ModelsOverlay"/> knows a curve read off the paper's figure: "opt-125m (paper)".</summary>
    public const string PaperSuffix = " (paper)";

    /// <summary>Whole layers only, at most ~16 ticks (64-layer models get every 4th).</summary>
    static double LayerStep(int layers) => Math.Max(1, Math.Ceiling(layers / 16.0));

    static double[] LayerAxis(int layers, bool relativeDepth) =>
        Enumerable.Range(0, layers).Select(l => relativeDepth ? RelativeDepth.Of(l, layers, DepthScale.LayerOverLast) : l).ToArray();

    static string LayerTitle(bool relativeDepth) => relativeDepth ? "relative depth (layer / (layers − 1))" : "layer (0 = first)";

    static int CategoryRank(string category)
    {
        int i = HouseStyle.Categories.Select(c => c.Category).ToList().IndexOf(category);
        return i < 0 ? int.MaxValue : i;
    }

    static GenericChart WithLayout(GenericChart chart, string key, object value)
    {
        var layout = GenericChart.getLayout(chart);
        layout.SetProperty(key, value);
        return GenericChart.setLayout(layout, chart);
    }

    static GenericChart MapTraces(GenericChart chart, Action<Trace> change) =>
        GenericChart.mapTrace(FuncConvert.FromFunc<Trace, Trace>(t => { change(t); return t; }), chart);
}
