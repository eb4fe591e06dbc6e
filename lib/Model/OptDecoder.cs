// Reference: transformers/models/opt/modeling_opt.py, OPTDecoder.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static OptNeurons.Runtime.Scalars;

namespace OptNeurons.Model;

/// <summary>Token and learned position embeddings, the layer stack, and the optional final norm and projections.</summary>
public sealed class OptDecoder : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>OPT's position table has two extra rows: position p reads row p + 2, pads (p = -1) read row 1.</summary>
    public const int PositionOffset = 2;

    readonly EmbeddingTable embed_tokens;
    readonly EmbeddingTable? embed_positions;       // absent in a model trained without positions
    readonly Linear? project_in, project_out;       // only when word_embed_proj_dim != hidden_size (350m)
    readonly LayerNorm? final_layer_norm;           // absent in post-LN models (350m)
    readonly ModuleList<OptDecoderLayer> layers;
    readonly OptConfig config;

    public OptDecoder(OptConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(OptDecoder))
    {
        this.config = config;
        Device = device ?? CPU;
        Dtype = dtype ?? get_default_dtype();
        int h = config.HiddenSize, p = config.WordEmbedProjDim;
        embed_tokens = new EmbeddingTable(config.VocabSize, p, config.PadTokenId, device, dtype);
        if (config.HasLearnedPositions)
            embed_positions = new EmbeddingTable(config.MaxPositionEmbeddings + PositionOffset, h, device: device, dtype: dtype);
        if (config.HasProjections)
        {
            project_in = Unfilled.Linear(p, h, hasBias: false, device, dtype);
            project_out = Unfilled.Linear(h, p, hasBias: false, device, dtype);
        }
        if (config.HasFinalLayerNorm)
        {
            bool affine = config.LayerNormElementwiseAffine;
            final_layer_norm = nn.LayerNorm(h, 1e-5, elementwise_affine: affine, bias: affine, device: device, dtype: dtype);
        }
        Layers = Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new OptDecoderLayer(config, device, dtype)).ToArray();
        layers = new ModuleList<OptDecoderLayer>([.. Layers]);
        RegisterComponents();
    }

    public IReadOnlyList<OptDecoderLayer> Layers { get; }
    /// <summary>Where the weights live (fixed at construction; reading it from a weight would allocate a wrapper).</summary>
    public Device Device { get; }
    /// <summary>The dtype of every weight (fixed at construction, like <see cref="Device"/>).</summary>
    public ScalarType Dtype { get; }
    public EmbeddingTable TokenEmbedding => embed_tokens;
    /// <summary>The final LayerNorm before the LM head; null in post-LN models (350m).</summary>
    public LayerNorm? FinalLayerNorm => final_layer_norm;
    /// <summary>hidden_size → word_embed_proj_dim before the LM head; only in 350m.</summary>
    public Linear? ProjectOut => project_out;

    /// <summary>Final hidden states (B, T, word_embed_proj_dim), ready for the LM head.</summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask) => Run(inputIds, attentionMask, config.NumHiddenLayers);

    /// <summary>
    /// Runs the first <paramref name="layerCount"/> layers. With fewer than all layers the residual stream after the
    /// last one is returned (no final norm or projection): layers past the last one asked for are never computed.
    /// </summary>
    public Tensor Run(Tensor inputIds, Tensor attentionMask, int layerCount)
    {
        if (layerCount < 0 || layerCount > Layers.Count)
            throw new ArgumentOutOfRangeException(nameof(layerCount), layerCount, $"layerCount must be in 0..{Layers.Count}.");
        using var scope = NewDisposeScope();
        var x = Embed(inputIds, attentionMask);
        var mask = LayerMask(attentionMask, Device);
        for (int l = 0; l < layerCount; l++)
        {
            var next = Layers[l].call(x, mask);
            x.Dispose();   // two residual streams alive at a time, not one per layer (autograd keeps its own references)
            x = next;
        }
        if (layerCount == Layers.Count) x = Finish(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Input embeddings (B, T, H): token embeddings (projected in 350m) plus learned positions from the mask.</summary>
    /// <remarks>With learned positions, pads (p = -1) read row 1 of the table; without them only causality orders tokens.</remarks>
    public Tensor Embed(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        CheckInputs(inputIds, attentionMask);
        var tokens = embed_tokens.call(inputIds.to(Device));     // OPT does not scale embeddings
        if (project_in is not null) tokens = project_in.call(tokens);                 // applied before positions are added
        if (embed_positions is null) return tokens.MoveToOuterDisposeScope();
        using var offset = PositionOffset.ToScalar();   // held until the end of the call, as are Scalars' (see there)
        var positions = PositionIds(attentionMask).to(tokens.device).add(offset, One);
        return tokens.add(embed_positions.call(positions), One).MoveToOuterDisposeScope();
    }

    /// <summary>Final LayerNorm (pre-LN models) then project_out (350m).</summary>
    public Tensor Finish(Tensor x)
    {
        using var scope = NewDisposeScope();
        if (final_layer_norm is not null) x = final_layer_norm.call(x);
        if (project_out is not null) x = project_out.call(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>HF's position ids: real tokens are numbered 0, 1, 2, … counting only unmasked tokens; pads get -1.</summary>
    public static Tensor PositionIds(Tensor attentionMask)
    {
        var mask = attentionMask.to(ScalarType.Int64);
        return mask.cumsum(1, ScalarType.Int64).mul(mask).sub(One);
    }

    /// <summary>
    /// The mask the layers take, on <paramref name="device"/>: null when no token of the batch is padded, so attention
    /// runs its causal kernel with no mask at all (HF's "sdpa" attention chooses the same way), else
    /// <see cref="AdditiveMask"/>. Public for callers that run layers without a whole decoder (layer streaming).
    /// </summary>
    public static Tensor? LayerMask(Tensor attentionMask, Device device)
    {
        using var scope = NewDisposeScope();
        return attentionMask.all().item<bool>() ? null : AdditiveMask(attentionMask, device).MoveToOuterDisposeScope();
    }

    /// <summary>(B, 1, T, T) float32 mask: 0 where query i may see key j (j ≤ i and key j is real), float32.min elsewhere.</summary>
    public static Tensor AdditiveMask(Tensor attentionMask, Device device)
    {
        using var scope = NewDisposeScope();
        long t = attentionMask.shape[1];
        var causal = ones(t, t, ScalarType.Bool, device).tril();                                   // (T, T)
        var keys = attentionMask.to(device).to(ScalarType.Bool).unsqueeze(1).unsqueeze(2);         // (B, 1, 1, T)
        var allowed = causal.unsqueeze(0).unsqueeze(0).logical_and(keys);                          // (B, 1, T, T)
        using var lowest = float.MinValue.ToScalar();   // held until the end of the call (see Scalars)
        var blocked = full(1, 1, 1, 1, lowest, ScalarType.Float32, device);
        return where(allowed, zeros(1, ScalarType.Float32, device), blocked).MoveToOuterDisposeScope();
    }

    void CheckInputs(Tensor inputIds, Tensor attentionMask)
    {
        if (inputIds.dim() != 2) throw new ArgumentException($"input_ids must be (batch, seq), got shape [{string.Join(", ", inputIds.shape)}].");
        if (!inputIds.shape.SequenceEqual(attentionMask.shape))
            throw new ArgumentException($"attention_mask shape [{string.Join(", ", attentionMask.shape)}] differs from input_ids shape [{string.Join(", ", inputIds.shape)}].");
        if (inputIds.NumberOfElements == 0) throw new ArgumentException("input_ids is empty.");
        if (inputIds.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"input_ids must hold int64 or int32 token ids, not {inputIds.dtype}.");
        long maxId = inputIds.max().to(ScalarType.Int64).item<long>(), minId = inputIds.min().to(ScalarType.Int64).item<long>();
        if (maxId >= config.VocabSize || minId < 0)
            throw new ArgumentException($"input_ids holds token id {(minId < 0 ? minId : maxId)}, outside the vocabulary 0..{config.VocabSize - 1} (vocab_size {config.VocabSize}).");
        long longest = attentionMask.to(ScalarType.Int64).sum(1L).max().item<long>();   // 1L: a bare 1 would pick the sum(ScalarType) overload
        if (longest > config.MaxPositionEmbeddings)
            throw new ArgumentException($"a sequence has {longest} tokens, more than max_position_embeddings = {config.MaxPositionEmbeddings}.");
    }
}
