using OptNeurons.Model;
using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Support;

/// <summary>Random OPT weights under HF's canonical names, shaped by a config, for checkpoints written in tests.</summary>
public static class SyntheticWeights
{
    /// <summary>A small valid OPT config (pre-LN, tied, 2 layers); override fields with <c>with { … }</c>.</summary>
    public static OptConfig TinyConfig() => new()
    {
        VocabSize = 64, HiddenSize = 8, NumHiddenLayers = 2, FfnDim = 16, NumAttentionHeads = 2, MaxPositionEmbeddings = 16,
    };

    /// <summary>
    /// Every tensor HF's OPTForCausalLM has for <paramref name="config"/>, filled with seeded normal values (fp32, CPU).
    /// lm_head.weight is included only when the embeddings are untied, as HF's safetensors files do.
    /// The caller owns the tensors.
    /// </summary>
    public static Dictionary<string, Tensor> Create(OptConfig config, int seed = 0)
    {
        TorchRuntime.Initialize();
        var generator = new Generator((ulong)seed);
        long h = config.HiddenSize, p = config.WordEmbedProjDim, f = config.FfnDim;
        var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        void Add(string name, params long[] shape) => weights[name] = randn(shape, generator: generator);
        void LayerNorm(string name)
        {
            if (!config.LayerNormElementwiseAffine) return;
            Add(name + ".weight", h);
            Add(name + ".bias", h);
        }
        void Linear(string name, long outputs, long inputs, bool bias)
        {
            Add(name + ".weight", outputs, inputs);
            if (bias) Add(name + ".bias", outputs);
        }

        Add("model.decoder.embed_tokens.weight", config.VocabSize, p);
        if (config.HasLearnedPositions) Add("model.decoder.embed_positions.weight", config.MaxPositionEmbeddings + 2, h);
        if (config.HasProjections)
        {
            Linear("model.decoder.project_in", h, p, bias: false);
            Linear("model.decoder.project_out", p, h, bias: false);
        }
        if (config.HasFinalLayerNorm) LayerNorm("model.decoder.final_layer_norm");
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            var layer = $"model.decoder.layers.{i}.";
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" }) Linear(layer + "self_attn." + proj, h, h, config.EnableBias);
            LayerNorm(layer + "self_attn_layer_norm");
            Linear(layer + "fc1", f, h, config.EnableBias);
            Linear(layer + "fc2", h, f, config.EnableBias);
            LayerNorm(layer + "final_layer_norm");
        }
        if (!config.TieWordEmbeddings) Add("lm_head.weight", config.VocabSize, p);
        return weights;
    }
}
