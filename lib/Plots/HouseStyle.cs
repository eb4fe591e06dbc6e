using Plotly.NET;

namespace OptNeurons.Plots;

/// <summary>
/// The look every notebook chart shares: the claim as the title, labelled axes, a white background, and one colour per
/// model size that never changes between notebooks (so "1.3b" is the same teal in the dead-neuron and positional plots).
/// </summary>
public static class HouseStyle
{
    public const string Font = "Inter, 'Segoe UI', Helvetica, Arial, sans-serif";
    public const int Height = 440;
    const string Grid = "#e6e6e6";

    /// <summary>OPT sizes from small to large on a dark-to-light ramp, so the order of sizes reads off the colours.</summary>
    static readonly (string Size, string Color)[] SizeColors =
    [
        ("125m", "#440154"), ("350m", "#482878"), ("1.3b", "#3e4989"), ("2.7b", "#31688e"),
        ("6.7b", "#26828e"), ("13b", "#1f9e89"), ("30b", "#35b779"), ("66b", "#8fb81d"),
    ];

    /// <summary>Models that are not an OPT size: the project's own tiny model and the test fixture.</summary>
    public const string TinyColor = "#d6604d";
    public const string OtherColor = "#7f7f7f";

    /// <summary>Neuron categories of the paper, in the order stacked bars draw them.</summary>
    public static IReadOnlyList<(string Category, string Color)> Categories { get; } =
    [
        ("dead", "#9e9e9e"), ("token detector", "#2166ac"), ("positional", "#e08214"), ("other", "#d9d9d9"),
        // Coverage bins (Figs 2, 12, 13), fewest n-grams darkest.
        ("1-5", "#08306b"), ("6-10", "#2171b5"), ("11-50", "#6baed6"), ("51-100", "#c6dbef"), (">100", "#f0f0f0"), ("undetermined", "#fdd0a2"),
        // Positional pattern types (Fig. 7's purple, red, green, yellow); the weak variant of each is paler.
        ("oscillatory", "#6a3d9a"), ("oscillatory (weak)", "#cab2d6"), ("both extremes", "#e31a1c"), ("both extremes (weak)", "#fb9a99"),
        ("one extreme", "#33a02c"), ("one extreme (weak)", "#b2df8a"), ("other pattern", "#d4a017"), ("other pattern (weak)", "#f7e3a1"),
    ];

    /// <summary>Series that are neither a model size nor a category, in the order they come.</summary>
    public static IReadOnlyList<string> SeriesColors { get; } = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"];

    /// <summary>
    /// The colour of a model, from the size in its name ("facebook/opt-1.3b", "opt-125m", a local folder named after one);
    /// a name with "tiny", "mini" or "fixture" in it gets <see cref="TinyColor"/>, anything else grey.
    /// </summary>
    public static string ModelColor(string model)
    {
        var name = model.ToLowerInvariant();
        // The size follows a dash ("opt-13b"), so "13b" is never read out of "opt-1.3b".
        foreach (var (size, color) in SizeColors)
            if (name.Contains("-" + size, StringComparison.Ordinal) || name == size) return color;
        return new[] { "tiny", "mini", "fixture" }.Any(n => name.Contains(n, StringComparison.Ordinal)) ? TinyColor : OtherColor;
    }

    /// <summary>The colour of a neuron category (<see cref="Categories"/>), grey for unknown ones.</summary>
    public static string CategoryColor(string category) =>
        Categories.FirstOrDefault(c => string.Equals(c.Category, category, StringComparison.OrdinalIgnoreCase)).Color ?? OtherColor;

    /// <summary>
    /// Applies the house style: <paramref name="claim"/> as the title, axis titles (say the unit: "layer", "% of neurons"),
    /// white background with light grid, fixed height and full width. Layout keys are set directly (plotly.js names), which
    /// keeps this independent of Plotly.NET's F# option-heavy layout API.
    /// </summary>
    /// <param name="xStep">Distance between x ticks starting at 0 (1 for layers, so no "layer 0.5"); null lets plotly choose.</param>
    public static GenericChart Apply(GenericChart chart, string claim, string xTitle, string yTitle, double? xStep = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(claim);
        var layout = GenericChart.getLayout(chart);
        layout.RemoveProperty("width");   // Plotly.NET's 600 px default; the page decides the width
        layout.SetProperty("height", Height);
        layout.SetProperty("title", new Dictionary<string, object> { ["text"] = claim, ["x"] = 0.01, ["xanchor"] = "left" });
        layout.SetProperty("font", new Dictionary<string, object> { ["family"] = Font, ["size"] = 13, ["color"] = "#222" });
        layout.SetProperty("template", new Dictionary<string, object>());   // no theme: every colour below is ours
        layout.SetProperty("paper_bgcolor", "white");
        layout.SetProperty("plot_bgcolor", "white");
        layout.SetProperty("margin", new Dictionary<string, object> { ["l"] = 70, ["r"] = 30, ["t"] = 60, ["b"] = 60 });
        var xAxis = Axis(xTitle);
        if (xStep is { } step) (xAxis["tick0"], xAxis["dtick"]) = (0, step);
        layout.SetProperty("xaxis", xAxis);
        layout.SetProperty("yaxis", Axis(yTitle));
        layout.SetProperty("legend", new Dictionary<string, object> { ["orientation"] = "h", ["y"] = -0.18 });
        return GenericChart.setLayout(layout, chart);
    }

    static Dictionary<string, object> Axis(string title)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        return new()
        {
            ["title"] = new Dictionary<string, object> { ["text"] = title },
            ["gridcolor"] = Grid, ["zeroline"] = false, ["linecolor"] = "#444", ["ticks"] = "outside", ["automargin"] = true,
        };
    }
}
