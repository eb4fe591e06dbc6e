namespace OptNeurons.Findings;

/// <summary>A neuron that passed all three steps with certainty.</summary>
/// <param name="Ngrams">Its covered n-grams (packed keys, <see cref="Stats.NgramKey"/>), most frequent first, then by key.</param>
/// <param name="Activations">Its activations that have an n-gram (BOS left out by default).</param>
/// <param name="CoveredActivations">Lower bound (exact when SketchExact) of those triggered by the covered n-grams.</param>
/// <param name="Coverage">Step 1's coverage number (its upper bound, which passed).</param>
public sealed record NgramDetector(string Model, int Layer, int NumLayers, double Depth, int Neuron, int N,
                                   IReadOnlyList<long> Ngrams, long Activations, long CoveredActivations, int Coverage, bool SketchExact) : ILayerRow
{
    /// <summary>
    /// Whether this is a token detector of <paramref name="token"/> alone. With documents packed into sequences, OPT's
    /// &lt;/s&gt; also separates them, and a neuron that fires on separators passes the three steps as a detector of
    /// &lt;/s&gt;: footnote 8 leaves out the begin-of-sentence token, which by default is position 0 only
    /// (<see cref="TriggerCounting.ExcludeFirstPosition"/>).
    /// </summary>
    public bool DetectsOnly(int token) => N == 1 && Ngrams.Count > 0 && Ngrams.All(k => k == Stats.NgramKey.Pack(token));
}

/// <summary>Everything a search found in one model, and the neurons it could not decide.</summary>
/// <param name="Undecided">(layer, neuron) of neurons that might be detectors but are not certainly, because their
/// Misra–Gries summary is inexact: they pass the three steps with the count upper bounds but not with the lower ones.</param>
public sealed record DetectorSearch(string Model, int NumLayers, IReadOnlyList<int> Layers, DetectorOptions Options,
                                    IReadOnlyList<NgramDetector> Detectors, IReadOnlyList<(int Layer, int Neuron)> Undecided);

/// <summary>One layer of Figs 3/4 (tokens) or 14/15 (trigrams).</summary>
/// <param name="Detected">Distinct n-grams covered by the layer's detectors (Fig. 3b solid).</param>
/// <param name="Cumulative">Distinct n-grams detected in this or any lower analysed layer (Fig. 3b dashed).</param>
/// <param name="NewOverall">Detected here and in no lower analysed layer (Fig. 4 "new overall").</param>
/// <param name="NewVersusPrevious">Detected here but not in layer − 1 (Fig. 4 "new compared to the previous layer");
/// all of Detected when layer − 1 was not analysed.</param>
public sealed record DetectorLayerRow(string Model, int Layer, int NumLayers, double Depth, int N, int Detectors, int Undecided,
                                      int Detected, int Cumulative, int NewOverall, int NewVersusPrevious) : ILayerRow;

/// <summary>Paper §4.2–4.3 and A.2–A.3: token- and trigram-detecting neurons.</summary>
public static class NgramDetectors
{
    /// <summary>Runs the three steps on every neuron of the analysed layers.</summary>
    public static DetectorSearch Find(ModelStats model, DetectorOptions? options = null)
    {
        options ??= DetectorOptions.Tokens;
        options.Validate();
        var triggers = NgramTriggers.For(model.Stats, options.N, options.Counting);
        var layers = model.Layers(options.FirstHalfOnly);
        var detectors = new List<NgramDetector>();
        var undecided = new List<(int, int)>();
        foreach (int layer in layers)
        {
            var activations = triggers.Activations(layer);
            for (int neuron = 0; neuron < activations.Length; neuron++)
            {
                if (activations[neuron] == 0) continue;
                var t = triggers.Neuron(layer, neuron, activations[neuron]);
                var (lower, upper) = CoverageBounds.Of(t, options.CoveragePercent);
                var certain = DetectorSteps.Certain(t, upper, options);
                if (certain is { } covered)
                    detectors.Add(new NgramDetector(model.Model, layer, model.NumLayers, model.Depth(layer), neuron, options.N,
                        covered.Select(c => c.Key).ToArray(), t.Activations, covered.Sum(c => c.Lower), upper!.Value, t.Error == 0));
                else if (DetectorSteps.Possible(t, lower, options)) undecided.Add((layer, neuron));
            }
        }
        return new DetectorSearch(model.Model, model.NumLayers, layers, options, detectors, undecided);
    }

    /// <summary>One row per analysed layer, in layer order.</summary>
    public static IReadOnlyList<DetectorLayerRow> PerLayer(DetectorSearch search)
    {
        var byLayer = search.Detectors.ToLookup(d => d.Layer);
        var seen = new HashSet<long>();
        var rows = new List<DetectorLayerRow>();
        foreach (int layer in search.Layers)
        {
            var here = byLayer[layer].SelectMany(d => d.Ngrams).ToHashSet();
            var previous = search.Layers.Contains(layer - 1) ? byLayer[layer - 1].SelectMany(d => d.Ngrams).ToHashSet() : [];
            int newOverall = here.Count(k => !seen.Contains(k));
            seen.UnionWith(here);
            rows.Add(new DetectorLayerRow(search.Model, layer, search.NumLayers, RelativeDepth.Of(layer, search.NumLayers), search.Options.N,
                byLayer[layer].Count(), search.Undecided.Count(u => u.Layer == layer), here.Count, seen.Count, newOverall,
                here.Count(k => !previous.Contains(k))));
        }
        return rows;
    }
}
