namespace OptNeurons.Capture;

/// <summary>The only place activation names are spelled. They follow TransformerLens, so results compare by name.</summary>
public static class HookNames
{
    /// <summary>FFN neuron activations of layer <paramref name="layer"/>: the input of fc2, after ReLU. Shape (B, T, ffn_dim).</summary>
    public static string MlpPost(int layer) => $"blocks.{layer}.mlp.hook_post";
}
