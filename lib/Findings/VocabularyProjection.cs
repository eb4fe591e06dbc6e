using OptNeurons.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Findings;

/// <summary>What happens to a neuron's update between the residual stream and the unembedding.</summary>
public enum FinalNormHandling
{
    /// <summary>Raw: s = W_U · w (after project_out in 350m). The default: see <see cref="ProjectionOptions.FinalNorm"/>.</summary>
    None,
    /// <summary>
    /// s = W_U · (γ ⊙ (w − mean(w))): the final LayerNorm's effect on a small update to the residual stream, to first
    /// order and up to the positive factor 1/σ shared by every token, which changes no sign and no ranking. Models
    /// without a final LayerNorm (350m) have nothing to linearise and get the raw projection.
    /// </summary>
    Linearized,
}

/// <summary>Options of <see cref="VocabularyProjection"/> and <see cref="Suppression"/>.</summary>
public sealed record ProjectionOptions
{
    /// <summary>
    /// Default <see cref="FinalNormHandling.None"/>. The paper only says "By projecting this FFN row onto vocabulary"
    /// and cites the promoted tokens as "in line with previous work" (Geva et al. 2022), which multiplies the FFN value
    /// vector by the embedding matrix directly; the raw product also depends on no per-token statistics. Linearized is
    /// the variant to compare.
    /// </summary>
    public FinalNormHandling FinalNorm { get; init; } = FinalNormHandling.None;

    /// <summary>How many promoted and suppressed tokens <see cref="VocabularyProjection.Top"/> lists, and k of the bottom-k test.
    /// The paper fixes none; Fig. 5 shows up to 9 suppressed tokens, so 10 shows them all.</summary>
    public int TopK { get; init; } = 10;

    /// <summary>Score only token ids below this; null scores every unembedding row. Pass the tokenizer's
    /// <c>VocabularySize</c> (50265) to leave out the 7 padding rows of OPT's 50272-row embedding, which no text produces.</summary>
    public int? ScoredTokens { get; init; }
}

/// <param name="Score">Dot product of the (possibly normalised) update with the token's unembedding row.</param>
public sealed record TokenScore(int Token, float Score);

/// <summary>The tokens one neuron's update promotes (highest scores first) and suppresses (lowest first); ties by id.</summary>
public sealed record NeuronProjection(int Layer, int Neuron, IReadOnlyList<TokenScore> Promoted, IReadOnlyList<TokenScore> Suppressed);

/// <summary>
/// Paper §4.4, Figs 5–6: an active neuron n adds a multiple of fc2.weight[:, n] to the residual stream; its scores over
/// the vocabulary are W_U · w, with W_U = lm_head.weight (tied to embed_tokens.weight in every OPT) and, in 350m,
/// w first mapped through project_out to the embedding width. Computed in the model's dtype on its device.
/// </summary>
public static class VocabularyProjection
{
    /// <summary>Scores [neurons.Count][V] of the given neurons of one layer.</summary>
    public static float[][] Scores(OptForCausalLM model, int layer, IReadOnlyList<int> neurons, ProjectionOptions? options = null)
    {
        options ??= new();
        if ((uint)layer >= (uint)model.NumLayers) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"the model has layers 0 … {model.NumLayers - 1}.");
        if (neurons.Any(n => (uint)n >= (uint)model.Config.FfnDim))
            throw new ArgumentOutOfRangeException(nameof(neurons), $"neurons must be in 0 … {model.Config.FfnDim - 1}.");
        if (neurons.Count == 0) return [];
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        var decoder = model.Decoder;
        var fc2 = decoder.Layers[layer].Fc2Weight;                                                   // (H, F)
        var w = fc2.index_select(1, tensor(neurons.Select(n => (long)n).ToArray(), device: fc2.device)); // (H, m)
        if (options.FinalNorm == FinalNormHandling.Linearized && decoder.FinalLayerNorm is { } norm)
        {
            w = w - w.mean([0L], keepdim: true);
            if (norm.weight is { } gamma) w = w * gamma.unsqueeze(1);
        }
        if (decoder.ProjectOut is { } projectOut) w = projectOut.weight!.matmul(w);                  // (P, m): 350m
        Tensor unembedding = model.LmHead.weight!;                                                    // (V, P)
        if (options.ScoredTokens is int v)
        {
            if (v < 1 || v > unembedding.shape[0]) throw new ArgumentOutOfRangeException(nameof(options), v, $"ScoredTokens must be in 1 … {unembedding.shape[0]}.");
            unembedding = unembedding.narrow(0, 0, v);
        }
        var scores = unembedding.matmul(w).t().to(ScalarType.Float32).cpu().contiguous();            // (m, V)
        var flat = scores.data<float>().ToArray();
        int vocab = (int)scores.shape[1];
        return Enumerable.Range(0, neurons.Count).Select(i => flat.AsSpan(i * vocab, vocab).ToArray()).ToArray();
    }

    /// <summary>The top-k promoted and suppressed tokens of one neuron (k = <see cref="ProjectionOptions.TopK"/>).</summary>
    public static NeuronProjection Top(OptForCausalLM model, int layer, int neuron, ProjectionOptions? options = null)
    {
        options ??= new();
        var scores = Scores(model, layer, [neuron], options)[0];
        var ascending = Enumerable.Range(0, scores.Length).OrderBy(t => scores[t]).ThenBy(t => t).ToArray();
        var descending = Enumerable.Range(0, scores.Length).OrderByDescending(t => scores[t]).ThenBy(t => t);
        return new NeuronProjection(layer, neuron,
            descending.Take(options.TopK).Select(t => new TokenScore(t, scores[t])).ToArray(),
            ascending.Take(options.TopK).Select(t => new TokenScore(t, scores[t])).ToArray());
    }

    /// <summary>0 for the most suppressed token: how many tokens score lower, or equal with a smaller id.</summary>
    public static int AscendingRank(ReadOnlySpan<float> scores, int token)
    {
        float s = scores[token];
        int rank = 0;
        for (int u = 0; u < scores.Length; u++)
            if (scores[u] < s || (scores[u] == s && u < token)) rank++;
        return rank;
    }
}
