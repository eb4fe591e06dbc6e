using OptNeurons.Capture;
using OptNeurons.Data;
using OptNeurons.Hub;
using OptNeurons.Loading;
using OptNeurons.Stats;
using OptNeurons.Tokenization;
using static TorchSharp.torch;

namespace OptNeurons.Cli;

/// <summary>optneurons capture: neuron statistics of a model over some input, saved for the analyses.</summary>
static class CaptureCommand
{
    public const string Help = """
        usage: optneurons capture --model DIR --out DIR (--text FILE... | --json FILE) [options]

          --model DIR|ID       HuggingFace snapshot folder (config.json + weights; vocab.json + merges.txt for --text),
                               or a hub id such as facebook/opt-125m (downloaded into the shared HF cache)
          --revision REV       hub branch, tag or commit (default main)
          --text FILE...       plain-text documents; each is tokenized (</s> first) and cut into --max-length windows
          --json FILE          pre-tokenized {"input_ids": [[...]], "attention_mask": [[...]]} (mask optional)
          --out DIR            output folder: stats.safetensors + manifest.json (+ activations/logits)
          --batch-size N       sequences per forward pass (default 8)
          --max-length N       tokens per sequence, and positions tracked (default: max_position_embeddings)
          --layers K           capture only the first K layers; later layers are not computed (default: all)
          --dtype D            auto | float32 | bfloat16 | float16 (default auto: float32 on CPU, storage dtype on CUDA)
          --device D           auto | cpu | cuda | cuda:N (default auto)
          --padding SIDE       right | left (default right; results do not depend on it)
          --exclude-bos        do not count the first position (the </s> token) anywhere
          --sketch-capacity K  n-gram summary entries per neuron and order (default 128)
          --no-positions       skip per-position counts (saves L x T x F int32)
          --seed N             recorded in the manifest (the seed that chose the data, if any)
          --activations        also write activations.safetensors: every layer's neurons for the whole input
          --logits             also write logits.safetensors
        """;

    static readonly HashSet<string> Flags = ["--exclude-bos", "--no-positions", "--activations", "--logits"];

    public static int Run(IReadOnlyList<string> rawArgs)
    {
        var a = new Arguments(rawArgs, Flags, multiValued: new HashSet<string> { "--text" });
        string modelArg = a.Required("--model"), outDir = a.Required("--out");
        string revision = a.Optional("--revision") ?? "main";
        var texts = a.All("--text");
        var json = a.Optional("--json");
        if ((texts.Count > 0) == (json is not null)) throw new ArgumentException("give exactly one input: --text FILE... or --json FILE.");
        var settings = new CaptureSettings
        {
            BatchSize = a.Int("--batch-size", 8),
            LayerCount = a.Optional("--layers") is null ? null : a.Int("--layers", 1),
            Padding = a.Optional("--padding") switch
            {
                null or "right" => PaddingSide.Right,
                "left" => PaddingSide.Left,
                var other => throw new ArgumentException($"--padding must be right or left, not '{other}'."),
            },
            Stats = new StatsOptions
            {
                IncludeFirstPosition = !a.Flag("--exclude-bos"),
                TrackPositions = !a.Flag("--no-positions"),
                SketchCapacity = a.Int("--sketch-capacity", 128),
            },
        };
        long? seed = a.Optional("--seed") is { } s ? long.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : null;
        string device = a.Optional("--device") ?? "auto", dtype = a.Optional("--dtype") ?? "auto";
        bool activations = a.Flag("--activations"), logits = a.Flag("--logits");
        int? maxLengthArg = a.Optional("--max-length") is null ? null : a.Int("--max-length", 1);
        a.RejectUnknown();

        var (modelDir, commit) = Pretrained.Locate(modelArg, new HubOptions { Revision = revision, Progress = new ConsoleDownloadProgress() });
        using var model = Pretrained.Load(modelDir, device, dtype);
        int maxLength = maxLengthArg ?? model.Config.MaxPositionEmbeddings;
        if (maxLength > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"--max-length {maxLength} exceeds the model's max_position_embeddings {model.Config.MaxPositionEmbeddings}.");
        JsonTokenInput? input = json is null ? null : JsonTokenInput.Load(json);
        var sequences = input?.Sequences ?? Tokenize(modelDir, texts, maxLength);
        var data = json is not null ? $"json:{Path.GetFullPath(json)}" : "text:" + string.Join(",", texts.Select(Path.GetFullPath));
        Console.Error.WriteLine($"capture: {sequences.Count} sequences, {sequences.Sum(q => q.Length):N0} tokens, model {modelDir}");

        var stats = NeuronCapture.Run(model, sequences, settings with { MaxLength = maxLength },
            StatsSource.For(commit is null ? Path.GetFullPath(modelDir) : modelArg, model.Config, data, seed, commit), Console.Error);
        stats.Save(outDir);
        if (activations || logits)
        {
            var (ids, mask) = input?.AsBatch(model.Config.PadTokenId) ?? TokenBatches.Make(sequences, sequences.Count, model.Config.PadTokenId).Single();
            using var scope = NewDisposeScope();
            var (acts, logitValues) = ActivationDump.Run(model, ids, mask);
            ActivationDump.Save(outDir, ids, mask, activations ? acts : null, logits ? logitValues : null);
        }
        Console.Error.WriteLine($"capture: wrote {outDir}");
        return 0;
    }

    static List<long[]> Tokenize(string modelDir, IReadOnlyList<string> files, int maxLength)
    {
        var tokenizer = OptTokenizer.FromDirectory(modelDir);
        return files.SelectMany(f => TokenBatches.Windows(tokenizer.Encode(File.ReadAllText(f), addBos: false), maxLength, tokenizer.BosId)).ToList();
    }
}
