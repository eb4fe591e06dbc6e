// Reference: transformers/models/opt/modeling_opt.py, OPTAttention.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OptNeurons.Model;

/// <summary>Causal multi-head self-attention with OPT's parameter names.</summary>
public sealed class OptAttention : nn.Module<Tensor, Tensor, Tensor>
{
    readonly Linear q_proj, k_proj, v_proj, out_proj;
    readonly int heads, headDim;
    readonly double scaling, attentionDropout;

    public OptAttention(OptConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(OptAttention))
    {
        int h = config.HiddenSize;
        heads = config.NumAttentionHeads;
        headDim = config.HeadDim;
        scaling = Math.Pow(headDim, -0.5);
        attentionDropout = config.AttentionDropout;
        q_proj = nn.Linear(h, h, config.EnableBias, device, dtype);
        k_proj = nn.Linear(h, h, config.EnableBias, device, dtype);
        v_proj = nn.Linear(h, h, config.EnableBias, device, dtype);
        out_proj = nn.Linear(h, h, config.EnableBias, device, dtype);
        RegisterComponents();
    }

    /// <param name="x">(B, T, H) hidden states.</param>
    /// <param name="additiveMask">(B, 1, T, T) float32: 0 where a query may attend, float32.min where it may not.</param>
    public override Tensor forward(Tensor x, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        // In place where a fresh result is overwritten (the projection's output, the scores): the same numbers without a
        // second (B, T, H) and (B, nH, T, T) buffer; autograd allows it, as neither op's backward reads its own output.
        var q = q_proj.call(x).mul_(scaling).view(b, t, heads, headDim).transpose(1, 2);   // scaled after the bias, as HF does
        var k = k_proj.call(x).view(b, t, heads, headDim).transpose(1, 2);              // (B, nH, T, hd)
        var v = v_proj.call(x).view(b, t, heads, headDim).transpose(1, 2);
        // Scores and softmax in float32 (HF upcasts for the softmax). Adding the mask in float32 too keeps fully
        // masked rows (left padding) finite in fp16, so no NaN can reach real tokens through pad keys.
        var scores = q.matmul(k.transpose(2, 3)).to(ScalarType.Float32).add_(additiveMask);   // (B, nH, T, T)
        var probs = nn.functional.dropout(scores.softmax(-1).to(x.dtype), attentionDropout, training);   // identity in eval
        var context = probs.matmul(v).transpose(1, 2).reshape(b, t, heads * headDim);      // heads concatenated
        return out_proj.call(context).MoveToOuterDisposeScope();
    }
}
