namespace OptNeurons.Findings;

/// <summary>
/// The paper's own numbers, for the notebooks' "comparing to the paper" cells: what the text states, and values read
/// off the authors' blog copies of the figures (±1 percentage point on Fig. 1a, ±5–10 neurons on Fig. 3a). Layers are
/// 0-based here, like every table of the workbook; null marks a marker that could not be read.
/// </summary>
public static class PaperFigures
{
    /// <summary>The sizes of the figures' legends, smallest first.</summary>
    public static IReadOnlyList<string> Models { get; } = ["125m", "1.3b", "2.7b", "6.7b", "13b", "30b", "66b"];

    /// <summary>num_hidden_layers of each OPT size.</summary>
    public static int Layers(string model) => model switch
    {
        "125m" => 12, "350m" => 24, "1.3b" => 24, "2.7b" => 32, "6.7b" => 32, "13b" => 40, "30b" => 48, "66b" => 64,
        _ => throw new ArgumentException($"'{model}' is not an OPT size of the paper ({string.Join(", ", Models)}, 350m)."),
    };

    /// <summary>hidden_size of each OPT size; every OPT has ffn_dim = 4 · hidden_size.</summary>
    public static int Hidden(string model) => model switch
    {
        "125m" => 768, "350m" => 1024, "1.3b" => 2048, "2.7b" => 2560, "6.7b" => 4096, "13b" => 5120, "30b" => 7168, "66b" => 9216,
        _ => throw new ArgumentException($"'{model}' is not an OPT size of the paper ({string.Join(", ", Models)}, 350m)."),
    };

    /// <summary>Fig. 1a, % dead neurons per layer, every layer of the model (zeros where the figure shows ≈0).</summary>
    public static IReadOnlyList<double?> DeadPercent(string model) => Padded(model, model switch
    {
        "125m" => [0, 10, 17, 41, 7, 1],
        "1.3b" => [1.5, 19, 14, 17, 18, 22, 20, 15, 11, 4, 1, 1],
        "2.7b" => [8, 35, 31, 31, 30, 27, 26, 26, 26, 25, 18, 15, 11, 6, 3, 1],
        "6.7b" => [23, 24, 14, null, 16, 14, 10, 9, null, 5, null, 1, 1],
        "13b" => [37, 33, 30, 22, 15, 11, 8, 5, 3, 2, 2, 1, 1, 1],
        "30b" => [46, 50, 53, 53, 50, 43, 33, 23, 16, 12, 9, 8, 5, 4, 3, 2, 2, 2, 2, 1],
        "66b" => [55, 65, 72, 74, 72, 70, 67, 62, 59, 54, 48, 44, 39, 35, 31, 26, 22, 22, 16, 13, 11, 11, 10, 8, 7, 4, 2, 1, 1, 1],
        _ => throw new ArgumentException($"Fig. 1a has no curve for '{model}'."),
    });

    /// <summary>Fig. 1b, mean activation frequency of alive neurons per layer; read for 125m only (other curves in part).</summary>
    public static IReadOnlyList<double> AliveFrequency125m { get; } =
        [0.10, 0.023, 0.020, 0.012, 0.032, 0.064, 0.083, 0.079, 0.074, 0.072, 0.085, 0.084];

    /// <summary>Fig. 3a, token-detecting neurons per layer of the first half (125m and 350m are not in the figure).</summary>
    public static IReadOnlyList<double?> TokenDetectors(string model) => Padded(model, model switch
    {
        "1.3b" => [3, 17, 22, 23, 7, 2],
        "2.7b" => [7, 21, 34, 49, 51, 26, 20, 13],
        "6.7b" => [13, 65, 44, 59, 66, 39, 16, 12, 8, 3],
        "13b" => [48, 51, 111, 117, 103, 47, 34, 20, 10, 2],
        "30b" => [198, 135, 141, 144, 209, 207, 240, 223, 161, 160, 121, 81, 46, 27, 16, 9, 8, 7, 5, 5],
        "66b" => [343, 173, 124, 126, 188, 223, 294, 330, 391, 420, 453, 457, 412, 349, 263, 220, 168, 150, 86, 83, 39, 41, 27, 20, 14, 6, 5, 1, 1, 3, 1],
        _ => throw new ArgumentException($"Fig. 3a has no curve for '{model}'."),
    }, firstHalf: true);

    /// <summary>Text, §3: "for the 66b model, the proportion of dead neurons in some layers is above 70%".</summary>
    public const double DeadPercentAbove66b = 70;
    /// <summary>Text, §4.2: token-detecting neurons of 66b.</summary>
    public const int TokenDetectors66b = 5351;
    /// <summary>Text, §4.4: "for over 80% of token-detecting neurons their corresponding updates point in the negative direction".</summary>
    public const double SuppressingSharePercent = 80;
    /// <summary>Text, §6: 350m "does not have dead neurons"; the blog: "350m model: No dead neurons, No n-gram neurons".</summary>
    public const int DeadNeurons350m = 0;
    /// <summary>Fig. 9 as read: strong oscillatory neurons of 125m's second layer (layer 1 here).</summary>
    public const int OscillatoryTeam125mLayer1 = 10;

    static IReadOnlyList<double?> Padded(string model, double?[] read, bool firstHalf = false)
    {
        int layers = firstHalf ? Layers(model) / 2 : Layers(model);
        return [.. read, .. Enumerable.Repeat<double?>(0, layers - read.Length)];
    }
}
