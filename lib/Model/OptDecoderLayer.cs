// Reference: transformers/models/opt/modeling_opt.py, OPTDecoderLayer.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static OptNeurons.Runtime.Scalars;

namespace OptNeurons.Model;

/// <summary>One OPT block: attention then the ReLU feed-forward network whose neurons this project studies.</summary>
public sealed class OptDecoderLayer : nn.Module<Tensor, Tensor?, Tensor>
{
    readonly OptAttention self_attn;
    readonly LayerNorm self_attn_layer_norm, final_layer_norm;
    readonly Linear fc1, fc2;
    readonly HookPoint hook_mlp_post;
    readonly bool preLayerNorm;
    readonly double dropout;

    public OptDecoderLayer(OptConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(OptDecoderLayer))
    {
        int h = config.HiddenSize;
        bool affine = config.LayerNormElementwiseAffine;
        preLayerNorm = config.DoLayerNormBefore;
        dropout = config.Dropout;
        self_attn = new OptAttention(config, device, dtype);
        self_attn_layer_norm = nn.LayerNorm(h, 1e-5, elementwise_affine: affine, bias: affine, device: device, dtype: dtype);
        fc1 = Unfilled.Linear(h, config.FfnDim, config.EnableBias, device, dtype);
        fc2 = Unfilled.Linear(config.FfnDim, h, config.EnableBias, device, dtype);
        final_layer_norm = nn.LayerNorm(h, 1e-5, elementwise_affine: affine, bias: affine, device: device, dtype: dtype);
        hook_mlp_post = new HookPoint("mlp.hook_post");
        RegisterComponents();
    }

    /// <summary>The FFN neuron activations (the input of fc2, after ReLU) pass through this point: hook it to observe them.</summary>
    public HookPoint NeuronActivations => hook_mlp_post;

    /// <summary>fc2.weight (H, F): column n is the update neuron n adds to the residual stream when active (paper §4.4).</summary>
    public Tensor Fc2Weight => fc2.weight!;

    /// <param name="x">(B, T, H) hidden states.</param>
    /// <param name="additiveMask">As <see cref="OptDecoder.LayerMask"/>: null for a batch without padding.</param>
    public override Tensor forward(Tensor x, Tensor? additiveMask)
    {
        using var scope = NewDisposeScope();
        Tensor y;
        if (preLayerNorm)
        {
            // Residual additions take a held alpha (see Scalars).
            var h = x.add(Drop(self_attn.call(self_attn_layer_norm.call(x), additiveMask)), One);   // pre-LN: 125m, 1.3b, … 66b
            var neurons = hook_mlp_post.call(fc1.call(final_layer_norm.call(h)).relu());   // (B, T, F)
            y = h.add(Drop(fc2.call(neurons)), One);
        }
        else
        {
            // 350m applies LayerNorm AFTER each sub-block; the FFN residual is the post-attention-LN output.
            var h = self_attn_layer_norm.call(x.add(Drop(self_attn.call(x, additiveMask)), One));
            var neurons = hook_mlp_post.call(fc1.call(h).relu());
            y = final_layer_norm.call(h.add(Drop(fc2.call(neurons)), One));
        }
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Residual dropout, active only in training mode (the trainer); inference never drops anything.</summary>
    Tensor Drop(Tensor x) => nn.functional.dropout(x, dropout, training);
}
