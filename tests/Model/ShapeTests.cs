using OptNeurons.Model;
using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Model;

/// <summary>The state-dict names and shapes of a model built on the meta device (no memory) equal HF's real key lists.</summary>
public class ShapeTests
{
    [Theory]
    [InlineData("opt-125m")]
    [InlineData("opt-350m")]
    public void StateDict_OnMetaDevice_EqualsHuggingFaceKeys(string name)
    {
        TorchRuntime.Initialize();
        var approvals = Path.Combine(AppContext.BaseDirectory, "Approvals");
        var config = OptConfig.Load(Path.Combine(approvals, $"{name}.config.json"));
        using var model = new OptForCausalLM(config, new Device(DeviceType.META));
        var received = string.Concat(model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => $"{kv.Key} [{string.Join(", ", kv.Value.shape)}]\n"));
        var approved = File.ReadAllText(Path.Combine(approvals, $"{name}.keys.approved.txt"));
        if (received != approved) File.WriteAllText(Path.Combine(approvals, $"{name}.keys.received.txt"), received);
        Assert.Equal(approved, received);
    }

    [Fact]
    public void TiedHead_SharesTheEmbeddingTensor()
    {
        TorchRuntime.Initialize();
        var config = OptConfig.Load(Path.Combine(AppContext.BaseDirectory, "Approvals", "opt-350m.config.json"));
        using var model = new OptForCausalLM(config with { NumHiddenLayers = 1, VocabSize = 64, MaxPositionEmbeddings = 8 });
        var dict = model.state_dict();
        using (no_grad()) dict["model.decoder.embed_tokens.weight"].fill_(3.0f);
        Assert.Equal(3.0f * 64 * 512, dict["lm_head.weight"].sum().item<float>());
    }
}
