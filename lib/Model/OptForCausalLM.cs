// Reference: transformers/models/opt/modeling_opt.py, OPTForCausalLM.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OptNeurons.Model;

/// <summary>HF's wrapper nesting (model.decoder.*), kept so that state-dict keys equal HF's.</summary>
public sealed class OptModel : nn.Module
{
    readonly OptDecoder decoder;

    public OptModel(OptConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(OptModel))
    {
        decoder = new OptDecoder(config, device, dtype);
        RegisterComponents();
    }

    public OptDecoder Decoder => decoder;
}

/// <summary>
/// The OPT language model: decoder plus LM head, tied to the token embeddings unless the config says not. It is built
/// without weight values (LayerNorms start at 1 and 0): fill it from a checkpoint (<see cref="Loading.Pretrained"/>,
/// <see cref="Loading.CheckpointLoader"/>) or with OPT's initialisation (<see cref="Training.OptInitializer"/>).
/// </summary>
public sealed class OptForCausalLM : nn.Module<Tensor, Tensor, Tensor>
{
    readonly OptModel model;
    readonly Linear lm_head;

    public OptForCausalLM(OptConfig config, Device? device = null, ScalarType? dtype = null) : base(nameof(OptForCausalLM))
    {
        Config = config.Validate();
        model = new OptModel(config, device, dtype);
        lm_head = Unfilled.Linear(config.WordEmbedProjDim, config.VocabSize, hasBias: false, device, dtype);
        if (config.TieWordEmbeddings) lm_head.weight = model.Decoder.TokenEmbedding.weight!;   // one tensor under both names, as in HF
        RegisterComponents();
        eval();   // analyses run without dropout; the trainer switches to training mode for its steps
    }

    public OptConfig Config { get; }
    public OptDecoder Decoder => model.Decoder;
    public int NumLayers => Config.NumHiddenLayers;
    /// <summary>The unembedding (vocab_size, word_embed_proj_dim); the same tensor as embed_tokens.weight when tied (every OPT).</summary>
    public Linear LmHead => lm_head;

    /// <summary>Logits (B, T, vocab_size) at every position, including the 7 padding rows of OPT's vocabulary.</summary>
    public override Tensor forward(Tensor inputIds, Tensor attentionMask)
    {
        using var scope = NewDisposeScope();
        return lm_head.call(model.Decoder.call(inputIds, attentionMask)).MoveToOuterDisposeScope();
    }
}
