using OptNeurons.Model;
using TorchSharp.Modules;

namespace OptNeurons.Training;

/// <summary>The model's parameters with the tied head left out.</summary>
public static class OptParameters
{
    /// <summary>
    /// named_parameters() without lm_head.weight when it is tied: TorchSharp hands the tied tensor out under a second
    /// handle (same storage, same .grad), so its own de-duplication by handle lets it through, and an optimizer given
    /// both would update the embedding twice per step.
    /// </summary>
    public static IEnumerable<(string Name, Parameter Parameter)> Distinct(OptForCausalLM model) =>
        model.named_parameters().Where(p => !(model.Config.TieWordEmbeddings && p.name == "lm_head.weight"));
}
