// Reference: transformers/models/opt/modeling_opt.py, OPTAttention.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OptNeurons.Model;

/// <summary>Causal multi-head self-attention with OPT's parameter names.</summary>
public sealed class OptAttention : nn.Module<Tensor, Tensor?, Tensor>
{
    readonly Linear q_proj, k_proj, v_proj, out_proj;
    readonly int heads, headDim;
    readonly double attentionDropout;

    public OptAttention(OptConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(OptAttention))
    {
        int h = config.HiddenSize;
        heads = config.NumAttentionHeads;
        headDim = config.HeadDim;
        attentionDropout = config.AttentionDropout;
        q_proj = Unfilled.Linear(h, h, config.EnableBias, device, dtype);
        k_proj = Unfilled.Linear(h, h, config.EnableBias, device, dtype);
        v_proj = Unfilled.Linear(h, h, config.EnableBias, device, dtype);
        out_proj = Unfilled.Linear(h, h, config.EnableBias, device, dtype);
        RegisterComponents();
    }

    /// <param name="x">(B, T, H) hidden states.</param>
    /// <param name="additiveMask">(B, 1, T, T) float32: 0 where a query may attend, float32.min where it may not; null when
    /// no token is padded, for plain causal attention.</param>
    public override Tensor forward(Tensor x, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], t = x.shape[1];
        var q = q_proj.call(x).view(b, t, heads, headDim).transpose(1, 2);   // (B, nH, T, hd)
        var k = k_proj.call(x).view(b, t, heads, headDim).transpose(1, 2);
        var v = v_proj.call(x).view(b, t, heads, headDim).transpose(1, 2);
        // HF's "sdpa" attention, OPT's default there: softmax(q·kᵀ/√hd + mask)·v in one fused kernel, so the (B, nH, T, T)
        // scores are never stored (2 GB a layer in float32 at 4 × 2048 tokens on 1.3b) and a GPU runs it near its
        // matrix peak. Without padding there is no mask: the causal kernel skips the blocks above the diagonal (30 %
        // faster at 1,024 tokens on the CPU, flash attention on a GPU), as HF does. On the CPU both kernels give the
        // same bits, so padding never changes a real token's numbers; on a GPU they may differ in the last bits, as in HF.
        // A mask goes in the compute dtype, float32.min clamped to that dtype's lowest finite value: a fully masked row
        // (a left pad's query) stays finite, so no NaN reaches real tokens through pad keys.
        var mask = additiveMask;
        if (mask is not null && mask.dtype != x.dtype)
        {
            using var lowest = LowestFinite(x.dtype).ToScalar();   // held until the end of the call (see Scalars)
            mask = mask.clamp_min(lowest).to(x.dtype);
        }
        var context = nn.functional.scaled_dot_product_attention(q, k, v, mask, training ? attentionDropout : 0.0, is_casual: mask is null)
            .transpose(1, 2).reshape(b, t, heads * headDim);                                  // heads concatenated
        return out_proj.call(context).MoveToOuterDisposeScope();
    }

    static double LowestFinite(ScalarType dtype) => dtype switch
    {
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        _ => float.MinValue,
    };
}
