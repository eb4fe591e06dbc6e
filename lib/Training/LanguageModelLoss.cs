using OptNeurons.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Training;

/// <summary>Next-token cross-entropy of a batch of windows, and the held-out loss.</summary>
public static class LanguageModelLoss
{
    /// <summary>
    /// Mean cross-entropy over every position of (B, T) <paramref name="input"/> against <paramref name="target"/>.
    /// With <paramref name="bf16Head"/> the output layer's matrix product (hidden · Eᵀ, the tied head) runs in bfloat16
    /// and the log-softmax in float32; otherwise the model's own forward (float32 throughout) is used.
    /// </summary>
    public static Tensor Compute(OptForCausalLM model, Tensor input, Tensor target, bool bf16Head = false)
    {
        using var scope = NewDisposeScope();
        var mask = ones_like(input);                     // packed windows: no padding
        Tensor logits;                                   // (B, T, V)
        if (bf16Head)
        {
            if (!model.Config.TieWordEmbeddings) throw new NotSupportedException("the bf16 head assumes the tied head of every OPT.");
            var hidden = model.Decoder.call(input, mask);
            var embedding = model.Decoder.TokenEmbedding.weight!;
            logits = nn.functional.linear(hidden.to(ScalarType.BFloat16), embedding.to(ScalarType.BFloat16)).to(ScalarType.Float32);
        }
        else logits = model.call(input, mask);
        long v = logits.shape[2];
        return nn.functional.cross_entropy(logits.view(-1, v), target.view(-1)).MoveToOuterDisposeScope();
    }

    /// <summary>Mean loss over the fixed held-out batches, in eval mode (no dropout) and float32.</summary>
    public static double HeldOut(OptForCausalLM model, int[] stream, TrainingSettings settings, int bosId)
    {
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            double sum = 0;
            int count = 0;
            foreach (var (input, target) in Windows.Evenly(stream, settings.Context, settings.BatchSize, settings.EvalBatches, bosId))
            {
                using var scope = NewDisposeScope();
                sum += Compute(model, input, target).item<float>();
                count++;
                input.Dispose(); target.Dispose();
            }
            return sum / count;
        }
        finally { model.train(wasTraining); }
    }
}
