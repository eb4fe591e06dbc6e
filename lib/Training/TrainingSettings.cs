using System.Globalization;
using System.Reflection;
using OptNeurons.Model;

namespace OptNeurons.Training;

/// <summary>
/// Everything that defines a training run. A checkpoint records these; resuming requires every setting except the
/// operational ones (<see cref="Operational"/>: logging, evaluation and checkpoint cadence, threads) to be equal.
/// Defaults follow OPT's recipe (AdamW β = 0.9, 0.95, weight decay 0.1, linear warm-up then linear decay to 10 %,
/// clipping at 1.0), scaled down to a model a laptop CPU trains in hours.
/// </summary>
public sealed record TrainingSettings
{
    // Model shape (OPT: pre-LN, ReLU FFN, tied head, vocabulary 50272 = OPT's 50265 tokens rounded up to a multiple of 8).
    public int Layers { get; init; } = 4;
    public int Hidden { get; init; } = 128;
    public int Heads { get; init; } = 2;
    /// <summary>FFN width; 0 means 4 × <see cref="Hidden"/>, as in every OPT.</summary>
    public int FfnDim { get; init; }
    public int VocabSize { get; init; } = 50272;
    /// <summary>false trains the paper's NoPos model (§5.4): no position embedding at all, causality alone orders tokens.</summary>
    public bool LearnedPositions { get; init; } = true;
    /// <summary>
    /// true trains OPT-350m's layout: LayerNorm after each attention and FFN block (do_layer_norm_before false) and no
    /// final LayerNorm, the variant the paper singles out (§6) for having no dead neurons and no n-gram neurons.
    /// </summary>
    public bool PostLayerNorm { get; init; }
    /// <summary>T: each sequence is BOS plus T − 1 tokens; also the model's max_position_embeddings.</summary>
    public int Context { get; init; } = 128;

    // Optimisation.
    public int Steps { get; init; } = 1000;
    public int BatchSize { get; init; } = 8;
    public double PeakLr { get; init; } = 2e-3;
    public int WarmupSteps { get; init; } = 80;
    /// <summary>The learning rate at the last step, as a fraction of the peak (OPT decays to 10 %).</summary>
    public double FinalLrFraction { get; init; } = 0.1;
    public double WeightDecay { get; init; } = 0.1;
    /// <summary>The token embedding is also the (tied) output matrix; GPT-2 and nanoGPT decay it, and so do we by default.</summary>
    public bool DecayTokenEmbeddings { get; init; } = true;
    /// <summary>Off by default: decay pulls every position row towards zero, the opposite of what positional neurons need.</summary>
    public bool DecayPositionEmbeddings { get; init; }
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.95;
    public double Eps { get; init; } = 1e-8;
    public double GradClip { get; init; } = 1.0;
    public double Dropout { get; init; } = 0.1;
    public double AttentionDropout { get; init; }
    public double InitStd { get; init; } = 0.02;
    public long Seed { get; init; } = 1;
    /// <summary>
    /// Runs the output layer (about three quarters of a step's work at this size) in bfloat16: fp32 master weights and
    /// an fp32 log-softmax. TorchSharp 0.107 has no autocast, so this is the part of it that pays.
    /// </summary>
    public bool Bf16Head { get; init; }

    // Operational: may change between sessions of one run.
    public int CheckpointEvery { get; init; } = 200;
    public int EvalEvery { get; init; } = 100;
    public int EvalBatches { get; init; } = 8;
    /// <summary>Intra-op threads; 0 leaves TorchSharp's default. Bit-exact resume needs the same count as before.</summary>
    public int Threads { get; init; }
    public int LogEvery { get; init; } = 10;
    /// <summary>A warning is printed when the held-out loss has not improved over this many evaluations.</summary>
    public int PlateauEvals { get; init; } = 3;
    /// <summary>Also export an fp16 snapshot every this many steps to steps/step-NNNNNN/ (0: none), for Fig. 11-style comparisons.</summary>
    public int KeepEvery { get; init; }

    public static readonly IReadOnlySet<string> Operational = new HashSet<string>(StringComparer.Ordinal)
        { nameof(CheckpointEvery), nameof(EvalEvery), nameof(EvalBatches), nameof(Threads), nameof(LogEvery), nameof(PlateauEvals), nameof(KeepEvery) };

    public int FfnWidth => FfnDim > 0 ? FfnDim : 4 * Hidden;

    /// <summary>The HF OPT config of the model these settings train.</summary>
    public OptConfig ModelConfig() => new OptConfig
    {
        VocabSize = VocabSize, HiddenSize = Hidden, NumHiddenLayers = Layers, FfnDim = FfnWidth, NumAttentionHeads = Heads,
        MaxPositionEmbeddings = Context, Dropout = Dropout, AttentionDropout = AttentionDropout, InitStd = InitStd,
        PositionEmbeddingType = LearnedPositions ? "learned" : "none", DoLayerNormBefore = !PostLayerNorm,
    }.Validate("training settings");

    /// <summary>Learning rate of update number <paramref name="step"/> (1-based): linear warm-up, then linear decay to the final fraction.</summary>
    public double LearningRate(int step)
    {
        if (step <= WarmupSteps) return PeakLr * step / WarmupSteps;
        double progress = Steps == WarmupSteps ? 1 : (double)(step - WarmupSteps) / (Steps - WarmupSteps);
        return PeakLr * (1 - (1 - FinalLrFraction) * Math.Min(progress, 1));
    }

    /// <summary>The train command's option for a setting, so that its messages name what the user typed.</summary>
    static readonly Dictionary<string, string> Options = new()
    {
        [nameof(Layers)] = "--layers", [nameof(Hidden)] = "--hidden", [nameof(Heads)] = "--heads", [nameof(Steps)] = "--steps",
        [nameof(BatchSize)] = "--batch-size", [nameof(PeakLr)] = "--lr", [nameof(CheckpointEvery)] = "--checkpoint-every",
        [nameof(EvalEvery)] = "--eval-every", [nameof(EvalBatches)] = "--eval-batches", [nameof(LogEvery)] = "--log-every",
        [nameof(Context)] = "--context", [nameof(FinalLrFraction)] = "--final-lr-fraction",
    };

    static string Named(string setting) => Options.TryGetValue(setting, out var option) ? $"{setting} ({option})" : setting;

    public TrainingSettings Validate()
    {
        void Positive(string name, double value) { if (!(value > 0)) throw new ArgumentException($"training settings: {Named(name)} must be positive, got {value}."); }
        Positive(nameof(Layers), Layers); Positive(nameof(Hidden), Hidden); Positive(nameof(Heads), Heads);
        Positive(nameof(Steps), Steps); Positive(nameof(BatchSize), BatchSize); Positive(nameof(PeakLr), PeakLr);
        Positive(nameof(CheckpointEvery), CheckpointEvery); Positive(nameof(EvalEvery), EvalEvery); Positive(nameof(EvalBatches), EvalBatches);
        Positive(nameof(LogEvery), LogEvery); Positive(nameof(PlateauEvals), PlateauEvals);
        if (Context < 2) throw new ArgumentException($"training settings: {Named(nameof(Context))} must be at least 2 (BOS and one token), got {Context}.");
        if (WarmupSteps < 0 || WarmupSteps > Steps) throw new ArgumentException($"training settings: {WarmupSteps} warm-up steps (--warmup) do not fit in {Steps} steps (--steps).");
        if (FinalLrFraction is < 0 or > 1) throw new ArgumentException($"training settings: {Named(nameof(FinalLrFraction))} must be in [0, 1], got {FinalLrFraction}.");
        if (WeightDecay < 0 || GradClip < 0 || Threads < 0 || KeepEvery < 0 || FfnDim < 0)
            throw new ArgumentException("training settings: WeightDecay, GradClip, Threads, KeepEvery and FfnDim must not be negative.");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) throw new ArgumentException($"training settings: betas must be in [0, 1), got {Beta1}, {Beta2}.");
        ModelConfig();
        return this;
    }

    /// <summary>Every non-operational setting whose value differs, as "Name: here X, checkpoint Y".</summary>
    public IReadOnlyList<string> DifferencesFrom(TrainingSettings checkpoint) =>
        typeof(TrainingSettings).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && !Operational.Contains(p.Name))
            .Select(p => (p.Name, Here: p.GetValue(this), There: p.GetValue(checkpoint)))
            .Where(d => !Equals(d.Here, d.There))
            .Select(d => $"{d.Name}: {Show(d.Here)} here, {Show(d.There)} in the checkpoint").ToList();

    static string Show(object? v) => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "null";
}
