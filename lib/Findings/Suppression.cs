using OptNeurons.Model;

namespace OptNeurons.Findings;

/// <summary>
/// How one token detector's update scores its covered tokens. Three tests of "their corresponding updates point in the
/// negative direction from the triggering them tokens" (§4.4), which the paper does not define:
/// <see cref="MeanBelowZero"/> (the default), <see cref="EveryBelowZero"/> and <see cref="AllInBottomK"/>.
/// </summary>
/// <param name="MeanScore">Mean of the covered tokens' scores.</param>
/// <param name="MaxScore">The highest score among the covered tokens.</param>
/// <param name="WorstRank">The largest ascending rank (0 = most suppressed token of the vocabulary) among the covered tokens.</param>
public sealed record DetectorSuppression(string Model, int Layer, int NumLayers, double Depth, int Neuron, IReadOnlyList<int> Tokens,
                                         double MeanScore, float MaxScore, int WorstRank, int BottomK) : ILayerRow
{
    /// <summary>Default test: the mean score of the covered tokens is negative.</summary>
    public bool MeanBelowZero => MeanScore < 0;
    /// <summary>Stricter: every covered token scores negative.</summary>
    public bool EveryBelowZero => MaxScore < 0;
    /// <summary>Strictest: every covered token is among the BottomK most suppressed of the vocabulary.</summary>
    public bool AllInBottomK => WorstRank < BottomK;
}

/// <summary>How many detectors pass each suppression test, in one layer or (<see cref="SuppressionSummary"/>) the whole model.</summary>
public sealed record SuppressionRow(string Model, int Layer, int NumLayers, double Depth, int Detectors,
                                    int MeanBelowZero, int EveryBelowZero, int AllInBottomK, int BottomK) : ILayerRow;

/// <summary>All detectors of one model; the paper's "over 80%" is <see cref="MeanBelowZeroShare"/> under the default test.</summary>
public sealed record SuppressionSummary(string Model, int Detectors, int MeanBelowZero, int EveryBelowZero, int AllInBottomK, int BottomK)
{
    public double MeanBelowZeroShare => (double)MeanBelowZero / Detectors;
    public double EveryBelowZeroShare => (double)EveryBelowZero / Detectors;
    public double AllInBottomKShare => (double)AllInBottomK / Detectors;
}

/// <summary>Paper §4.4: token detectors suppress the tokens they detect.</summary>
public static class Suppression
{
    /// <summary>Every token detector of the search, scored against its own covered tokens.</summary>
    public static IReadOnlyList<DetectorSuppression> PerDetector(OptForCausalLM model, DetectorSearch search, ProjectionOptions? options = null)
    {
        options ??= new();
        if (search.Options.N != 1) throw new ArgumentException($"Suppression is defined for token detectors (N = 1); this search found {search.Options.N}-gram detectors.");
        var rows = new List<DetectorSuppression>();
        foreach (var group in search.Detectors.GroupBy(d => d.Layer))
        {
            var detectors = group.ToArray();
            var scores = VocabularyProjection.Scores(model, group.Key, detectors.Select(d => d.Neuron).ToArray(), options);
            for (int i = 0; i < detectors.Length; i++)
            {
                var d = detectors[i];
                var tokens = d.Ngrams.Select(k => checked((int)k)).ToArray();
                if (tokens.Any(t => t >= scores[i].Length))
                    throw new ArgumentException($"Layer {d.Layer}, neuron {d.Neuron}: a covered token is outside the {scores[i].Length} scored tokens.");
                var s = scores[i];
                rows.Add(new DetectorSuppression(d.Model, d.Layer, d.NumLayers, d.Depth, d.Neuron, tokens,
                    tokens.Average(t => (double)s[t]), tokens.Max(t => s[t]), tokens.Max(t => VocabularyProjection.AscendingRank(s, t)), options.TopK));
            }
        }
        return rows;
    }

    /// <summary>One row per layer that has detectors, in layer order.</summary>
    public static IReadOnlyList<SuppressionRow> PerLayer(IReadOnlyList<DetectorSuppression> detectors) =>
        detectors.GroupBy(d => d.Layer).OrderBy(g => g.Key).Select(g =>
        {
            var (first, all) = (g.First(), g.ToArray());
            return new SuppressionRow(first.Model, first.Layer, first.NumLayers, first.Depth, all.Length, all.Count(d => d.MeanBelowZero),
                                      all.Count(d => d.EveryBelowZero), all.Count(d => d.AllInBottomK), first.BottomK);
        }).ToArray();

    /// <summary>All detectors together (they must come from one model).</summary>
    public static SuppressionSummary Overall(IReadOnlyList<DetectorSuppression> detectors)
    {
        if (detectors.Count == 0) throw new ArgumentException("There are no detectors to summarise.");
        if (detectors.Select(d => d.Model).Distinct().Count() > 1) throw new ArgumentException("Detectors of several models: summarise each model on its own.");
        return new SuppressionSummary(detectors[0].Model, detectors.Count, detectors.Count(d => d.MeanBelowZero),
                                      detectors.Count(d => d.EveryBelowZero), detectors.Count(d => d.AllInBottomK), detectors[0].BottomK);
    }
}
