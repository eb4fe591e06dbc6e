using System.Globalization;
using System.Reflection;
using System.Text;
using OptNeurons.Model;
using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Training;

/// <summary>Writes MODEL_CARD.md for a trained model: what it is, what it saw, how well it did, and how to make it again.</summary>
public static class ModelCard
{
    public const string FileName = "MODEL_CARD.md";
    /// <summary>The final training loss is the mean of this many last steps (one step's loss is noisy).</summary>
    public const int FinalLossWindow = 50;

    public static string Write(string directory, OptForCausalLM model, TrainerState state, TrainingData data, ScalarType weightsDtype, string? commandLine)
    {
        var s = state.Settings;
        var c = model.Config;
        var (total, embedding) = ParameterCounts(model);
        var window = state.Losses.TakeLast(FinalLossWindow).ToList();
        double trainLoss = window.Count > 0 ? window.Average(l => (double)l) : double.NaN;
        var heldOut = state.Evals.Count > 0 ? state.Evals[^1] : null;
        long tokensSeen = (long)state.Step * s.BatchSize * s.Context;
        var weights = new FileInfo(Path.Combine(directory, HfSnapshot.WeightsFile));
        var text = new StringBuilder();
        void Row(string name, FormattableString value) => text.Append(CultureInfo.InvariantCulture, $"| {name} | {value.ToString(CultureInfo.InvariantCulture)} |\n");

        text.Append("# Model card: a small OPT trained by OptNeurons\n\n");
        text.Append($"An OPT-architecture language model ({(c.DoLayerNormBefore ? "pre-LN" : "post-LN, like OPT-350m")}, ReLU FFN, tied embeddings) trained from scratch on the CPU by ");
        text.Append("`OptNeurons.Training.Trainer`, so the project has a model of its own to study dead, n-gram and positional neurons in. ");
        text.Append("Load it with `Pretrained.Load(folder)`; HF transformers' `OPTForCausalLM.from_pretrained` reads it too");
        text.Append(c.HasLearnedPositions ? ".\n\n" : " except for `position_embedding_type: \"none\"` (no positions), which only this project implements.\n\n");
        text.Append("| | |\n|---|---|\n");
        Row("shape", $"{c.NumHiddenLayers} layers, d_model {c.HiddenSize}, {c.NumAttentionHeads} heads, ffn {c.FfnDim}, context {s.Context}, {(c.HasLearnedPositions ? "learned positions" : "no positions (NoPos)")}");
        Row("parameters", $"{total:N0} in all; {total - embedding:N0} outside the token and position embeddings");
        Row("tokenizer", $"OPT's GPT-2 byte-level BPE (vocab.json + merges.txt, 50265 tokens, written offline); vocabulary {c.VocabSize}; every sequence starts with </s> (id 2)");
        Row("data", $"{data.Description}");
        Row("tokens", $"{data.Train.Length:N0} training, {data.HeldOut.Length:N0} held out (fingerprint {state.DataFingerprint})");
        Row("steps", $"{state.Step:N0} × batch {s.BatchSize} × {s.Context} = {tokensSeen:N0} tokens ({tokensSeen / Math.Max(1.0, data.Train.Length):F2} passes)");
        Row("final training loss", $"{trainLoss:F4} (mean of the last {window.Count} steps)");
        Row("final held-out loss", heldOut is null ? (FormattableString)$"n/a" : $"{heldOut.Loss:F4} (perplexity {Math.Exp(heldOut.Loss):F1}) at step {heldOut.Step}, {s.EvalBatches * s.BatchSize} windows");
        Row("wall time", $"{TimeSpan.FromSeconds(state.WallSeconds):hh\\:mm\\:ss} of training (all sessions)");
        Row("threads", $"{(s.Threads > 0 ? s.Threads.ToString(CultureInfo.InvariantCulture) : "TorchSharp default")} (this session: {get_num_threads()})");
        Row("seed", $"{s.Seed}");
        Row("weights", $"{TorchRuntime.DtypeName(weightsDtype)}, {(weights.Exists ? weights.Length / 1e6 : 0):F1} MB ({HfSnapshot.WeightsFile})");
        text.Append("\n## Command line\n\n```\n").Append(commandLine ?? "(library call; no command line)").Append("\n```\n\n## Settings\n\n| setting | value |\n|---|---|\n");
        foreach (var p in typeof(TrainingSettings).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            text.Append(CultureInfo.InvariantCulture, $"| {p.Name} | {Convert.ToString(p.GetValue(s), CultureInfo.InvariantCulture)} |\n");
        text.Append("\nRecipe: AdamW, linear warm-up then linear decay to FinalLrFraction of the peak, gradient clipping at GradClip, ");
        text.Append("weight decay on weight matrices only (biases and LayerNorms never; embeddings as the settings say), random windows of ");
        text.Append("BOS + Context − 1 tokens with the loss at every position, dropout as configured.\n");
        var path = Path.Combine(directory, FileName);
        File.WriteAllText(path, text.ToString());
        return path;
    }

    /// <summary>Distinct parameters (the tied head counted once), and how many of them are embedding rows.</summary>
    public static (long Total, long Embedding) ParameterCounts(OptForCausalLM model)
    {
        long total = 0, embedding = 0;
        foreach (var (name, p) in OptParameters.Distinct(model))
        {
            total += p.numel();
            if (name.Contains("embed_", StringComparison.Ordinal)) embedding += p.numel();
        }
        return (total, embedding);
    }
}
