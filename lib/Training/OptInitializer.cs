// Reference: transformers/models/opt/modeling_opt.py, OPTPreTrainedModel._init_weights.
using OptNeurons.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Training;

/// <summary>OPT's initialisation as HF does it, drawn from a generator seeded here so that a seed fixes the model.</summary>
public static class OptInitializer
{
    /// <summary>
    /// Linear and Embedding weights ~ N(0, init_std), biases 0, LayerNorm weight 1 and bias 0, and the padding_idx row
    /// of embed_tokens zeroed (nn.Embedding's padding row). The tied lm_head is the same tensor and is drawn once.
    /// Values are drawn on the CPU in a fixed order (state-dict order) and copied, so they do not depend on the device.
    /// </summary>
    public static void Apply(OptForCausalLM model, long seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        var config = model.Config;
        using var generator = new Generator((ulong)seed, CPU);
        using var noGrad = no_grad();
        foreach (var (name, p) in OptParameters.Distinct(model))
        {
            using var scope = NewDisposeScope();
            if (name.Contains("layer_norm", StringComparison.Ordinal))
                p.fill_(name.EndsWith(".weight", StringComparison.Ordinal) ? 1.0 : 0.0);
            else if (name.EndsWith(".bias", StringComparison.Ordinal))
                p.zero_();
            else
                p.copy_(empty(p.shape, ScalarType.Float32, CPU).normal_(0, config.InitStd, generator));
        }
        // nn.Embedding(padding_idx=pad) starts its pad row at zero; HF's _init_weights zeroes it again after drawing.
        using (NewDisposeScope()) model.Decoder.TokenEmbedding.weight![config.PadTokenId].zero_();
    }

    /// <summary>A new model of <paramref name="config"/> initialised by <see cref="Apply"/>, in eval mode: the untrained baseline.</summary>
    public static OptForCausalLM Untrained(OptConfig config, long seed, Device? device = null)
    {
        var model = new OptForCausalLM(config, device);
        try { Apply(model, seed); }
        catch { model.Dispose(); throw; }
        return model;
    }
}
