using System.Text.Json.Nodes;
using OptNeurons.Plots;
using Plotly.NET;

namespace OptNeurons.Tests.Plots;

/// <summary>The house style, read back from the plotly figure each chart would draw.</summary>
public class ChartsTests
{
    static JsonNode Figure(GenericChart chart) => JsonNode.Parse(ChartOutput.FigureJson(chart))!;

    public static TheoryData<string> AllCharts => ["PerLayer", "StackedByLayer", "PositionHeatmap", "NeuronScatter", "ModelsOverlay"];

    static GenericChart Make(string kind) => kind switch
    {
        "PerLayer" => Charts.PerLayer("claim", [1, 2, 3], "dead neurons (%)", "opt-125m"),
        "StackedByLayer" => Charts.StackedByLayer("claim", new Dictionary<string, IReadOnlyList<double>> { ["dead"] = [1, 2], ["positional"] = [3, 4] }, "neurons"),
        "PositionHeatmap" => Charts.PositionHeatmap("claim", [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]]),
        "NeuronScatter" => Charts.NeuronScatter("claim", [new(0, 5, "dead"), new(1, 7, "positional")]),
        "ModelsOverlay" => Charts.ModelsOverlay("claim", new Dictionary<string, IReadOnlyList<double>> { ["opt-125m"] = [1, 2], ["opt-1.3b"] = [1, 2, 3] }, "dead neurons (%)"),
        _ => throw new ArgumentException(kind),
    };

    [Theory, MemberData(nameof(AllCharts))]
    public void EveryChart_HasTheClaimAsTitle_AndLabelledAxes(string kind)
    {
        var layout = Figure(Make(kind))["layout"]!;
        Assert.Equal("claim", (string?)layout["title"]!["text"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)layout["xaxis"]!["title"]!["text"]));
        Assert.False(string.IsNullOrWhiteSpace((string?)layout["yaxis"]!["title"]!["text"]));
        Assert.Null(layout["width"]);   // the page decides the width
    }

    [Fact]
    public void ModelColors_AreFixedPerSize_AndDistinct()
    {
        Assert.Equal(HouseStyle.ModelColor("facebook/opt-1.3b"), HouseStyle.ModelColor("opt-1.3b"));
        Assert.NotEqual(HouseStyle.ModelColor("facebook/opt-1.3b"), HouseStyle.ModelColor("facebook/opt-13b"));
        string[] sizes = ["125m", "350m", "1.3b", "2.7b", "6.7b", "13b", "30b", "66b"];
        Assert.Equal(sizes.Length, sizes.Select(s => HouseStyle.ModelColor("facebook/opt-" + s)).Distinct().Count());
        Assert.Equal(HouseStyle.TinyColor, HouseStyle.ModelColor("opt-tiny-pre-ln"));
    }

    [Fact]
    public void OneModel_GetsTheSameColour_InEveryChart()
    {
        var single = Figure(Charts.PerLayer("c", [1, 2], "y", "opt-125m"))["data"]![0]!;
        var overlay = Figure(Charts.ModelsOverlay("c", new Dictionary<string, IReadOnlyList<double>> { ["opt-1.3b"] = [1], ["opt-125m"] = [1, 2] }, "y"))["data"]!
            .AsArray().Single(t => (string?)t!["name"] == "opt-125m")!;
        Assert.Equal((string?)single["line"]!["color"], (string?)overlay["line"]!["color"]);
        Assert.Equal(HouseStyle.ModelColor("opt-125m"), (string?)single["line"]!["color"]);
    }

    [Fact]
    public void ModelsOverlay_NeverDrawsTwoComputedLinesAlike_AndDashesThePapersCurves()
    {
        var data = Figure(Charts.ModelsOverlay("c", new Dictionary<string, IReadOnlyList<double>>
        {
            ["opt-125m" + Charts.PaperSuffix] = [1, 2], ["opt-125m"] = [1, 2], ["opt-mini"] = [1], ["opt-mini-nopos"] = [1], ["opt-mini-postln"] = [1], ["new overall"] = [1],
        }, "y"))["data"]!.AsArray().ToDictionary(t => (string)t!["name"]!, t => t!["line"]!);
        string Colour(string name) => (string)data[name]["color"]!;
        string? Dash(string name) => (string?)data[name]["dash"];

        Assert.Equal(HouseStyle.ModelColor("opt-125m"), Colour("opt-125m"));
        Assert.Equal(Colour("opt-125m"), Colour("opt-125m" + Charts.PaperSuffix));   // the same size, told apart by the dash
        Assert.Equal("dash", Dash("opt-125m" + Charts.PaperSuffix));
        Assert.NotEqual("dash", Dash("opt-125m"));
        Assert.Equal(HouseStyle.TinyColor, Colour("opt-mini"));   // the first of the project's models keeps its colour
        string[] computed = ["opt-125m", "opt-mini", "opt-mini-nopos", "opt-mini-postln", "new overall"];
        Assert.Equal(computed.Length, computed.Select(Colour).Distinct().Count());
    }

    [Fact]
    public void RelativeDepth_RunsFromZeroToOne()
    {
        var x = Figure(Charts.PerLayer("c", [5, 6, 7, 8, 9], "y", relativeDepth: true))["data"]![0]!["x"]!.AsArray().Select(v => (double)v!).ToArray();
        Assert.Equal([0, 0.25, 0.5, 0.75, 1], x);
    }

    [Fact]
    public void StackedByLayer_StacksTheCategories_InTheirColours()
    {
        var figure = Figure(Make("StackedByLayer"));
        Assert.Equal("stack", (string?)figure["layout"]!["barmode"]);
        var dead = figure["data"]!.AsArray().Single(t => (string?)t!["name"] == "dead")!;
        Assert.Equal(HouseStyle.CategoryColor("dead"), (string?)dead["marker"]!["color"]);
    }

    [Fact]
    public void NeuronScatter_SwitchesToWebGl_ForLargeSets()
    {
        var many = Enumerable.Range(0, Charts.WebGlThreshold + 1).Select(i => new NeuronPoint(i % 12, i, "other")).ToArray();
        Assert.Equal("scatter", (string?)Figure(Make("NeuronScatter"))["data"]![0]!["type"]);
        Assert.Equal("scattergl", (string?)Figure(Charts.NeuronScatter("c", many))["data"]![0]!["type"]);
    }

    [Fact]
    public void PositionHeatmap_LabelsItsColourBar()
    {
        var trace = Figure(Charts.PositionHeatmap("c", [[1.0, 2.0]], zTitle: "firing frequency"))["data"]![0]!;
        Assert.Equal("heatmap", (string?)trace["type"]);
        Assert.Equal("firing frequency", (string?)trace["colorbar"]!["title"]!["text"]);
    }

    [Fact]
    public void PageHtml_DrawsWithoutFetchingAnything_AndNotebookHtml_FallsBackToTheCdn()
    {
        var chart = Make("PerLayer");
        Assert.DoesNotContain("http", ChartOutput.PageHtml(ChartOutput.FigureJson(chart)), StringComparison.Ordinal);
        Assert.Contains($"cdn.plot.ly/plotly-{ChartOutput.PlotlyJsVersion}.min.js", ChartOutput.NotebookHtml(chart), StringComparison.Ordinal);
        Assert.StartsWith("/**", ChartOutput.PlotlyJs().TrimStart(), StringComparison.Ordinal);   // plotly.min.js opens with its licence banner
    }
}
