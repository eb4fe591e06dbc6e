using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OptNeurons.Model;

/// <summary>
/// The fields of a HuggingFace OPT <c>config.json</c> that change the computation. Unknown keys are ignored, as HF does.
/// Defaults are those of <c>OPTConfig</c> (configuration_opt.py).
/// </summary>
public sealed record OptConfig
{
    [JsonPropertyName("model_type")] public string ModelType { get; init; } = "opt";
    [JsonPropertyName("vocab_size")] public int VocabSize { get; init; } = 50272;
    [JsonPropertyName("hidden_size")] public int HiddenSize { get; init; } = 768;
    [JsonPropertyName("num_hidden_layers")] public int NumHiddenLayers { get; init; } = 12;
    [JsonPropertyName("ffn_dim")] public int FfnDim { get; init; } = 3072;
    [JsonPropertyName("num_attention_heads")] public int NumAttentionHeads { get; init; } = 12;
    [JsonPropertyName("max_position_embeddings")] public int MaxPositionEmbeddings { get; init; } = 2048;
    [JsonPropertyName("do_layer_norm_before")] public bool DoLayerNormBefore { get; init; } = true;
    [JsonPropertyName("_remove_final_layer_norm")] public bool RemoveFinalLayerNorm { get; init; }
    [JsonPropertyName("word_embed_proj_dim")] public int? WordEmbedProjDimRaw { get; init; }
    [JsonPropertyName("activation_function")] public string ActivationFunction { get; init; } = "relu";
    [JsonPropertyName("enable_bias")] public bool EnableBias { get; init; } = true;
    [JsonPropertyName("layer_norm_elementwise_affine")] public bool LayerNormElementwiseAffine { get; init; } = true;
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; } = true;
    [JsonPropertyName("pad_token_id")] public int PadTokenId { get; init; } = 1;
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 2;
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 2;
    [JsonPropertyName("dropout")] public double Dropout { get; init; } = 0.1;
    [JsonPropertyName("attention_dropout")] public double AttentionDropout { get; init; }
    [JsonPropertyName("init_std")] public double InitStd { get; init; } = 0.02;
    /// <summary>"learned" (every OPT) or "none": the paper's model trained without positional encoding (§5, Fig. 10).
    /// HF's OPT ignores this key, so such checkpoints load in this project only.</summary>
    [JsonPropertyName("position_embedding_type")] public string PositionEmbeddingType { get; init; } = "learned";
    [JsonPropertyName("torch_dtype")] public string? TorchDtype { get; init; }
    [JsonPropertyName("dtype")] public string? Dtype { get; init; }   // newer transformers releases write this instead

    /// <summary>Size of the token embeddings; equals <see cref="HiddenSize"/> except in 350m (512 vs 1024).</summary>
    [JsonIgnore] public int WordEmbedProjDim => WordEmbedProjDimRaw ?? HiddenSize;
    [JsonIgnore] public int HeadDim => HiddenSize / NumAttentionHeads;
    /// <summary>project_in/project_out exist only when embeddings and hidden states differ in width.</summary>
    [JsonIgnore] public bool HasProjections => WordEmbedProjDim != HiddenSize;
    /// <summary>Post-LN models (350m) and checkpoints fine-tuned before transformers 4.20.1 have no final LayerNorm.</summary>
    [JsonIgnore] public bool HasFinalLayerNorm => DoLayerNormBefore && !RemoveFinalLayerNorm;
    /// <summary>The storage dtype the checkpoint declares ("float32" when it declares none).</summary>
    [JsonIgnore] public string StorageDtype => Dtype ?? TorchDtype ?? "float32";
    [JsonIgnore] public bool HasLearnedPositions => PositionEmbeddingType == "learned";

    /// <summary>Short, stable fingerprint of the architecture-defining fields, recorded with every saved result.</summary>
    [JsonIgnore] public string Hash => Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(this with { TorchDtype = null, Dtype = null, Dropout = 0, AttentionDropout = 0, InitStd = 0 })))[..16];

    static readonly JsonSerializerOptions Json = new() { ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static OptConfig Load(string configPath)
    {
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"{configPath}: config.json not found; a HuggingFace OPT snapshot folder holds config.json beside its weights.", configPath);
        OptConfig? config;
        try { config = JsonSerializer.Deserialize<OptConfig>(File.ReadAllText(configPath), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{configPath}: not a valid config.json ({e.Message}).", e); }
        return (config ?? throw new InvalidDataException($"{configPath}: config.json is empty.")).Validate(configPath);
    }

    /// <summary>Refuses what this project does not implement, naming the file and the key.</summary>
    public OptConfig Validate(string source = "config")
    {
        if (ModelType != "opt")
            throw new NotSupportedException($"{source}: model_type is '{ModelType}'; only OPT checkpoints (model_type \"opt\") are supported.");
        if (ActivationFunction != "relu")
            throw new NotSupportedException($"{source}: activation_function is '{ActivationFunction}'; the neuron analyses need ReLU (\"relu\"), as every OPT model uses.");
        void Positive(string key, int value) { if (value <= 0) throw new InvalidDataException($"{source}: {key} must be positive, got {value}."); }
        Positive("vocab_size", VocabSize); Positive("hidden_size", HiddenSize); Positive("num_hidden_layers", NumHiddenLayers);
        Positive("ffn_dim", FfnDim); Positive("num_attention_heads", NumAttentionHeads); Positive("max_position_embeddings", MaxPositionEmbeddings);
        Positive("word_embed_proj_dim", WordEmbedProjDim);
        if (HiddenSize % NumAttentionHeads != 0)
            throw new InvalidDataException($"{source}: hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}.");
        if (PositionEmbeddingType is not ("learned" or "none"))
            throw new NotSupportedException($"{source}: position_embedding_type is '{PositionEmbeddingType}'; expected \"learned\" (OPT) or \"none\".");
        if (Dropout is < 0 or >= 1 || AttentionDropout is < 0 or >= 1)
            throw new InvalidDataException($"{source}: dropout ({Dropout}) and attention_dropout ({AttentionDropout}) must be in [0, 1).");
        Runtime.TorchRuntime.ParseDtype(StorageDtype, $"{source}: {(Dtype is null ? "torch_dtype" : "dtype")}");
        return this;
    }
}
