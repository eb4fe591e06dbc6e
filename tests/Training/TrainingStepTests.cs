using OptNeurons.Model;
using OptNeurons.Training;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Training;

/// <summary>Initialisation, parameter groups and the optimisation step on a tiny model.</summary>
[Collection(TrainingCollection.Name)]
public class TrainingStepTests
{
    static OptForCausalLM NewModel(TrainingSettings s, long seed)
    {
        var model = new OptForCausalLM(s.ModelConfig());
        OptInitializer.Apply(model, seed);
        return model;
    }

    [Fact]
    public void Initializer_FollowsHuggingFace_AndIsFixedBySeed()
    {
        using var model = NewModel(TinyRuns.Settings, seed: 5);
        using var again = NewModel(TinyRuns.Settings, seed: 5);
        using var other = NewModel(TinyRuns.Settings, seed: 6);
        var p = model.state_dict();
        Assert.Equal(0, p["model.decoder.embed_tokens.weight"][1].abs().sum().item<float>());   // padding_idx row
        Assert.Equal(1, p["model.decoder.layers.0.final_layer_norm.weight"].min().item<float>());
        Assert.Equal(0, p["model.decoder.layers.1.fc1.bias"].abs().max().item<float>());
        Assert.InRange(p["model.decoder.layers.0.fc1.weight"].std().item<float>(), 0.018, 0.022);   // N(0, 0.02), 1024 draws
        Assert.InRange(p["model.decoder.embed_positions.weight"].std().item<float>(), 0.017, 0.023);
        Assert.True(TensorAssert.Identical(p["model.decoder.layers.1.fc2.weight"], again.state_dict()["model.decoder.layers.1.fc2.weight"]));
        Assert.False(TensorAssert.Identical(p["model.decoder.layers.1.fc2.weight"], other.state_dict()["model.decoder.layers.1.fc2.weight"]));
    }

    [Fact]
    public void WeightDecay_AppliesToMatricesAndTokenEmbeddings_NotToBiasesNormsOrPositions()
    {
        using var model = NewModel(TinyRuns.Settings, 1);
        var groups = Trainer.TrainableParameters(model, TinyRuns.Settings).ToDictionary(p => p.Name, p => p.Decay);
        Assert.DoesNotContain("lm_head.weight", groups.Keys);   // tied: trained once, as the embedding
        Assert.True(groups["model.decoder.embed_tokens.weight"]);
        Assert.False(groups["model.decoder.embed_positions.weight"]);
        Assert.True(groups["model.decoder.layers.0.self_attn.q_proj.weight"]);
        Assert.True(groups["model.decoder.layers.1.fc2.weight"]);
        Assert.False(groups["model.decoder.layers.0.self_attn.q_proj.bias"]);
        Assert.False(groups["model.decoder.layers.0.self_attn_layer_norm.weight"]);
        Assert.False(groups["model.decoder.final_layer_norm.weight"]);
        Assert.Equal(2 * 16 + 2 + 2, groups.Count);   // 16 per layer, two embeddings, final norm
        var withPositions = Trainer.TrainableParameters(model, TinyRuns.Settings with { DecayPositionEmbeddings = true, DecayTokenEmbeddings = false });
        Assert.True(withPositions.Single(p => p.Name == "model.decoder.embed_positions.weight").Decay);
        Assert.False(withPositions.Single(p => p.Name == "model.decoder.embed_tokens.weight").Decay);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFewSteps_LowerTheLossOnAFixedBatch(bool bf16Head)
    {
        var s = TinyRuns.Settings with { Dropout = 0 };
        using var model = NewModel(s, 3);
        using var optimizer = new NamedAdamW(Trainer.TrainableParameters(model, s), 0.9, 0.95, 1e-8, 0.1);
        var (input, target) = Windows.Random(TinyRuns.Data.Train, s.Context, s.BatchSize, new Xoshiro256(1), 2);
        model.train();
        var losses = new List<float>();
        for (int step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            var loss = LanguageModelLoss.Compute(model, input, target, bf16Head);
            losses.Add(loss.item<float>());
            loss.backward();
            nn.utils.clip_grad_norm_(optimizer.Parameters.Select(p => p.Parameter), 1.0);
            optimizer.Step(1e-2);
            optimizer.ZeroGrad();
        }
        Assert.InRange(losses[0], Math.Log(128) - 0.1, Math.Log(128) + 0.1);   // small init: nearly uniform over 128 tokens
        Assert.True(losses[^1] < losses[0] - 1.5, $"loss went {losses[0]:F3} → {losses[^1]:F3}");
    }

    [Fact]
    public void ChunkedLoss_EqualsCrossEntropyOfTheModelsLogits()
    {
        var s = TinyRuns.Settings with { Dropout = 0 };
        using var model = NewModel(s, 4);
        var (input, target) = Windows.Random(TinyRuns.Data.Train, s.Context, s.BatchSize, new Xoshiro256(2), 2);
        var chunked = LanguageModelLoss.Compute(model, input, target, bf16Head: false, chunkBytes: 128 * 4 * 5);   // 5 rows per chunk
        chunked.backward();
        var embeddingGrad = model.Decoder.TokenEmbedding.weight!.grad!.clone();
        model.zero_grad();
        var reference = nn.functional.cross_entropy(model.call(input, ones_like(input)).view(-1, 128), target.view(-1));
        reference.backward();
        Assert.Equal(reference.item<float>(), chunked.item<float>(), 5);
        Assert.True(embeddingGrad.allclose(model.Decoder.TokenEmbedding.weight!.grad!, rtol: 1e-4, atol: 1e-7), "gradients differ");
        Assert.InRange(embeddingGrad.abs().max().item<float>(), 1e-4, 1);   // a real gradient, not zeros
    }
}
