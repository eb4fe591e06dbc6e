using System.Text.Json;
using OptNeurons.Model;
using OptNeurons.Runtime;
using OptNeurons.Tests.Support;
using static TorchSharp.torch;

namespace OptNeurons.Bench;

/// <summary>
/// Writes the benchmark's inputs once: a random OPT checkpoint (a HuggingFace safetensors snapshot, read by both
/// OptNeurons and the PyTorch baseline) and seeded random token ids. Existing files are kept, so repeated runs and
/// both sides see the same bytes.
/// </summary>
static class Prepare
{
    public sealed record Settings(string ModelDir, string IdsPath, OptConfig Config, ScalarType Storage, double Density,
                                  int Sequences, int Length, int Seed);

    public static Settings Parse(Options o)
    {
        int hidden = o.Int("--hidden", 768);
        var config = new OptConfig
        {
            NumHiddenLayers = o.Int("--layers", 12), HiddenSize = hidden, FfnDim = o.Int("--ffn", 4 * hidden),
            NumAttentionHeads = o.Int("--heads", 12), VocabSize = 50272, MaxPositionEmbeddings = 2048,
        }.Validate("--layers/--hidden/--heads/--ffn");
        double density = o.Double("--density", 0.05);
        if (density is <= 0 or >= 1) throw new ArgumentException($"--density must be in (0, 1), got {density}.");
        var settings = new Settings(o.Required("--model"), o.Required("--ids"), config,
            TorchRuntime.ParseDtype(o.String("--storage", "float32"), "--storage"), density,
            o.Int("--sequences", 8), o.Int("--length", 512), o.Int("--seed", 1));
        if (settings.Length is < 2 or > 2048) throw new ArgumentException($"--length must be in 2..2048, got {settings.Length}.");
        return settings;
    }

    public static int Run(Settings s)
    {
        TorchRuntime.Initialize();
        if (File.Exists(Path.Combine(s.ModelDir, "model.safetensors"))) Console.Error.WriteLine($"prepare: keeping {s.ModelDir}");
        else WriteModel(s);
        if (File.Exists(s.IdsPath)) Console.Error.WriteLine($"prepare: keeping {s.IdsPath}");
        else WriteIds(s);
        return 0;
    }

    /// <summary>
    /// SyntheticWeights' seeded normal values, rescaled to OPT's initialisation (matrices and embeddings × init_std,
    /// LayerNorms 1 and 0, biases 0), except fc1's bias: a constant that makes about <see cref="Settings.Density"/> of
    /// the FFN neurons active on each token. The n-gram summaries' cost grows with the number of active (token,
    /// neuron) pairs, and zero biases would make half of them active, far more than trained OPT models show.
    /// </summary>
    static void WriteModel(Settings s)
    {
        var config = s.Config;
        var weights = SyntheticWeights.Create(config, s.Seed);
        try
        {
            // fc1's input is LayerNorm output (unit variance per element), so each pre-activation is ~ N(0, σ²) with
            // σ = init_std·√H; shifting it by σ·Φ⁻¹(density) leaves P(pre-activation > 0) = density.
            double sigma = config.InitStd * Math.Sqrt(config.HiddenSize);
            double shift = sigma * InverseNormal(s.Density);
            using (no_grad())
            {
                foreach (var (name, t) in weights)
                {
                    if (name.Contains("layer_norm", StringComparison.Ordinal))
                        t.fill_(name.EndsWith(".weight", StringComparison.Ordinal) ? 1.0 : 0.0);
                    else if (name.EndsWith("fc1.bias", StringComparison.Ordinal)) t.fill_(shift);
                    else if (name.EndsWith(".bias", StringComparison.Ordinal)) t.zero_();
                    else t.mul_(config.InitStd);
                }
            }
            CheckpointWriter.Write(s.ModelDir, weights, config, CheckpointFormat.SafeTensors, s.Storage);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
        Console.Error.WriteLine($"prepare: wrote {s.ModelDir} ({config.NumHiddenLayers} layers, d = {config.HiddenSize}, " +
                                $"{config.NumAttentionHeads} heads, ffn {config.FfnDim}, {TorchRuntime.DtypeName(s.Storage)}, seed {s.Seed}, fc1 bias for ~{s.Density:P0} active)");
    }

    static void WriteIds(Settings s)
    {
        var rng = new Random(s.Seed + 1);
        // BOS (</s>, id 2) first, as OPT's tokenizer does; then ids of real tokens (3 … 50264, no specials or padding rows).
        var ids = Enumerable.Range(0, s.Sequences)
            .Select(_ => Enumerable.Range(0, s.Length).Select(i => i == 0 ? 2L : rng.Next(3, 50265)).ToArray()).ToArray();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(s.IdsPath))!);
        File.WriteAllText(s.IdsPath, JsonSerializer.Serialize(new { input_ids = ids }));
        Console.Error.WriteLine($"prepare: wrote {s.IdsPath} ({s.Sequences} sequences of {s.Length} random token ids, seed {s.Seed + 1})");
    }

    /// <summary>Φ⁻¹(p) by bisection on Φ (erf to 1.5e-7, Abramowitz–Stegun 7.1.26): ample for a bias.</summary>
    static double InverseNormal(double p)
    {
        double lo = -10, hi = 10;
        for (int i = 0; i < 100; i++)
        {
            double mid = (lo + hi) / 2;
            if (Phi(mid) < p) lo = mid; else hi = mid;
        }
        return (lo + hi) / 2;

        static double Phi(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));
        static double Erf(double x)
        {
            double t = 1 / (1 + 0.3275911 * Math.Abs(x));
            double y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
            return Math.Sign(x) * y;
        }
    }
}
