using OptNeurons.Model;
using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Training;

/// <summary>Next-token cross-entropy of a batch of windows, and the held-out loss.</summary>
public static class LanguageModelLoss
{
    /// <summary>Logits of one head chunk stay under this size (see <see cref="Compute"/>).</summary>
    const long ChunkBytes = 16L << 20;

    /// <summary>
    /// Mean cross-entropy over every position of (B, T) <paramref name="input"/> against <paramref name="target"/>.
    /// The tied output layer (hidden · Eᵀ) and its softmax are computed a few rows at a time, each chunk's logits freed
    /// before the next: with a 50k vocabulary one (B·T, V) float32 block is hundreds of MB, which the held-out loss then
    /// never holds (in training, autograd keeps each chunk's log-softmax for the backward pass either way).
    /// With <paramref name="bf16Head"/> the output matrix product runs in bfloat16 (log-softmax in float32).
    /// </summary>
    public static Tensor Compute(OptForCausalLM model, Tensor input, Tensor target, bool bf16Head = false) =>
        Compute(model, input, target, bf16Head, ChunkBytes);

    internal static Tensor Compute(OptForCausalLM model, Tensor input, Tensor target, bool bf16Head, long chunkBytes)
    {
        if (!model.Config.TieWordEmbeddings) throw new NotSupportedException("the trainer's loss assumes the tied head of every OPT.");
        using var scope = NewDisposeScope();
        var hidden = model.Decoder.call(input, ones_like(input));   // (B, T, d); packed windows: no padding
        var embedding = model.Decoder.TokenEmbedding.weight!;        // (V, d): the tied lm_head
        long v = embedding.shape[0];
        var flatHidden = hidden.reshape(-1, hidden.shape[2]);
        var flatTarget = target.reshape(-1);
        long rows = flatHidden.shape[0], chunk = Math.Max(1, chunkBytes / (v * sizeof(float)));
        var head = bf16Head ? embedding.to(ScalarType.BFloat16) : embedding;
        Tensor? sum = null;
        for (long start = 0; start < rows; start += chunk)
        {
            using var chunkScope = NewDisposeScope();
            long end = Math.Min(rows, start + chunk);
            var h = flatHidden.narrow(0, start, end - start);
            var logits = bf16Head ? nn.functional.linear(h.to(ScalarType.BFloat16), head).to(ScalarType.Float32) : nn.functional.linear(h, head);
            var part = nn.functional.cross_entropy(logits, flatTarget.narrow(0, start, end - start), reduction: nn.Reduction.Sum);
            sum = (sum is null ? part : sum.add(part, Scalars.One)).MoveToOuterDisposeScope();
        }
        using var rowCount = rows.ToScalar();   // held until the end of the call (see Runtime.Scalars)
        return sum!.div(rowCount).MoveToOuterDisposeScope();
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
