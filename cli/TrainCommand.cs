using System.Globalization;
using OptNeurons.Tokenization;
using OptNeurons.Training;

namespace OptNeurons.Cli;

/// <summary>optneurons train: trains a small OPT from scratch on plain text, resumably, and exports it with a model card.</summary>
static class TrainCommand
{
    public const string Help = """
        usage: optneurons train --text FILE_OR_DIR... --out DIR [options]

          --text FILE_OR_DIR...  plain-text files, or folders (every *.txt below, in name order), or sdk-docs (the
                                 training part of the .NET SDK's API docs); the last 5 % of each is held out
          --out DIR              run folder: checkpoint/, final/ (fp16 model + MODEL_CARD.md), train.log; a run already
                                 there resumes from its last checkpoint (same settings and text required)
          model:    --layers N (4)  --hidden N (128)  --heads N (2)  --ffn N (4 x hidden)  --context T (128)
                    --no-positions (the paper's NoPos model)  --post-ln (OPT-350m's LayerNorm placement)
          recipe:   --steps N (1000)  --batch-size N (8)  --lr X (2e-3)  --warmup N (80, at most --steps)
                    --final-lr-fraction X (0.1)  --weight-decay X (0.1)  --decay-positions  --no-decay-embeddings
                    --dropout X (0.1)  --seed N (1)  --bf16-head (output layer in bfloat16)  --held-out-fraction X (0.05)
          session:  --checkpoint-every N (200)  --eval-every N (100)  --eval-batches N (8)  --log-every N (10)
                    --threads N (TorchSharp default)  --keep-every N (fp16 snapshots in steps/)  --stop-after-step N
                    --time-budget MINUTES  --final-fp32

          Exit status 0 when training ended, 3 when --stop-after-step or --time-budget stopped it first (run the same
          command again to continue), 2 for a bad option or input.
        """;

    static readonly HashSet<string> Flags = ["--no-positions", "--post-ln", "--decay-positions", "--no-decay-embeddings", "--bf16-head", "--final-fp32"];

    public static int Run(IReadOnlyList<string> rawArgs)
    {
        var a = new Arguments(rawArgs, Flags, multiValued: new HashSet<string> { "--text" });
        var texts = a.All("--text");
        if (texts.Count == 0) throw new ArgumentException("option --text is required.");
        string outDir = a.OutputFolder("--out");
        int hidden = a.Int("--hidden", 128), steps = a.Int("--steps", 1000);
        var settings = new TrainingSettings
        {
            Layers = a.Int("--layers", 4), Hidden = hidden, Heads = a.Int("--heads", 2), FfnDim = a.Int("--ffn", 4 * hidden),
            Context = a.Int("--context", 128), LearnedPositions = !a.Flag("--no-positions"),
            PostLayerNorm = a.Flag("--post-ln"),
            Steps = steps, BatchSize = a.Int("--batch-size", 8), PeakLr = Number(a, "--lr", 2e-3),
            WarmupSteps = NonNegative(a, "--warmup", Math.Min(80, steps)), FinalLrFraction = Number(a, "--final-lr-fraction", 0.1),
            WeightDecay = Number(a, "--weight-decay", 0.1), DecayPositionEmbeddings = a.Flag("--decay-positions"),
            DecayTokenEmbeddings = !a.Flag("--no-decay-embeddings"), Dropout = Number(a, "--dropout", 0.1),
            Seed = NonNegative(a, "--seed", 1), Bf16Head = a.Flag("--bf16-head"),
            CheckpointEvery = a.Int("--checkpoint-every", 200), EvalEvery = a.Int("--eval-every", 100),
            EvalBatches = a.Int("--eval-batches", 8), LogEvery = a.Int("--log-every", 10), Threads = NonNegative(a, "--threads", 0),
            KeepEvery = NonNegative(a, "--keep-every", 0),
        };
        var options = new TrainOptions
        {
            Log = Console.Out,
            CommandLine = "optneurons train " + string.Join(' ', rawArgs.Select(Quote)),
            StopAfterStep = a.PositiveIntOrNull("--stop-after-step"),
            TimeBudget = a.Optional("--time-budget") is null ? null : TimeSpan.FromMinutes(Number(a, "--time-budget", 0)),
            FinalFp16 = !a.Flag("--final-fp32"),
        };
        double heldOut = Number(a, "--held-out-fraction", 0.05);
        a.RejectUnknown();
        settings.Validate();

        var files = TrainingText.Files(texts);   // before anything is written to --out
        var tokenizer = OptTokenizer.FromDirectory(HfSnapshot.EnsureTokenizer(Path.Combine(outDir, "tokenizer")));
        var data = TrainingText.Load(files, tokenizer, heldOut, Console.Out);
        var result = Trainer.Train(settings, data, outDir, options);
        return result.Completed ? 0 : 3;   // 3: stopped early on purpose; run the same command again to continue
    }

    static double Number(Arguments a, string name, double fallback)
    {
        var text = a.Optional(name);
        if (text is null) return fallback;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v >= 0
            ? v : throw new ArgumentException($"option {name} must be a non-negative number, got '{text}'.");
    }

    static int NonNegative(Arguments a, string name, int fallback)
    {
        var text = a.Optional(name);
        if (text is null) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0
            ? v : throw new ArgumentException($"option {name} must be a non-negative integer, got '{text}'.");
    }

    static string Quote(string arg) => arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@".Contains(c)) ? arg : $"'{arg.Replace("'", "'\\''", StringComparison.Ordinal)}'";
}
