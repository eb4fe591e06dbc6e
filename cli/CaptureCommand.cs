using System.Diagnostics;
using OptNeurons.Capture;
using OptNeurons.Corpus;
using OptNeurons.Data;
using OptNeurons.Hub;
using OptNeurons.Loading;
using OptNeurons.Runtime;
using OptNeurons.Stats;
using OptNeurons.Tokenization;
using static TorchSharp.torch;

namespace OptNeurons.Cli;

/// <summary>optneurons capture: neuron statistics of a model over some input, saved for the analyses.</summary>
static partial class CaptureCommand
{
    static readonly HashSet<string> Flags = ["--exclude-bos", "--no-positions", "--activations", "--logits", "--streamed", "--restart", "--full-length"];

    public static int Run(IReadOnlyList<string> rawArgs)
    {
        var a = new Arguments(rawArgs, Flags, multiValued: new HashSet<string> { "--text" });
        string modelArg = a.Required("--model"), outDir = a.OutputFolder("--out");
        string revision = a.Optional("--revision") ?? "main";
        var texts = a.All("--text");
        var json = a.Optional("--json");
        var corpusName = a.Optional("--data");
        if ((texts.Count > 0 ? 1 : 0) + (json is null ? 0 : 1) + (corpusName is null ? 0 : 1) != 1)
            throw new ArgumentException("give exactly one input: --text FILE..., --json FILE or --data NAME.");
        long? corpusTokens = a.Long("--tokens", 1);
        bool fullLength = a.Flag("--full-length");
        if (corpusName is null && (corpusTokens is not null || fullLength))
            throw new ArgumentException("--tokens and --full-length sample a named corpus: they apply to --data only.");
        if (a.Optional("--revision") is not null && Directory.Exists(modelArg))
            throw new ArgumentException($"--revision picks a version of a hub model; {modelArg} is a local folder, which has only the one it holds.");
        int? batchSize = a.PositiveIntOrNull("--batch-size");
        var settings = new CaptureSettings
        {
            BatchSize = batchSize ?? 8,
            LayerCount = a.PositiveIntOrNull("--layers"),
            ChunkSize = a.PositiveIntOrNull("--chunk-size"),
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
                NgramOrders = NgramOrders(a.Optional("--ngram-orders")),
            },
        };
        long? seed = a.Long("--seed", 0) ?? (corpusName is null ? null : 0L);   // --data samples with seed 0 unless told: record it
        string device = a.Optional("--device") ?? "auto", dtype = a.Optional("--dtype") ?? "auto";
        bool activations = a.Flag("--activations"), logits = a.Flag("--logits"), streamed = a.Flag("--streamed");
        int? maxLengthArg = a.PositiveIntOrNull("--max-length");
        long? budget = a.Optional("--memory-budget") is { } b ? ByteSize.Parse(b) : null;
        var streaming = StreamingArguments(a);
        var resumeOptions = new ResumableCaptureOptions
        {
            Shard = a.Optional("--shard") is { } shard ? ShardSpec.Parse(shard) : ShardSpec.Whole, Restart = a.Flag("--restart"), Log = Console.Error,
        };
        a.RejectUnknown();
        foreach (var (option, path) in texts.Select(f => ("--text", f)).Append(("--json", json ?? "")))
            if (path.Length > 0 && !File.Exists(path))
                throw new ArgumentException($"{option}: '{path}' is not a file{(Directory.Exists(path) ? " (it is a folder; give the files in it)" : "")}.");
        if (maxLengthArg < 2) throw new ArgumentException($"--max-length {maxLengthArg} leaves no room for a token after </s>; give at least 2.");
        if (!streamed && (budget is not null || rawArgs.Any(r => r is "--residual" or "--spill" or "--residual-dtype")))
            throw new ArgumentException("--memory-budget, --residual, --spill and --residual-dtype apply to --streamed captures only.");
        if (streamed && (activations || logits))
            throw new ArgumentException("--activations and --logits need the whole model in memory; run them without --streamed.");

        var (modelDir, commit) = Pretrained.Locate(modelArg, new HubOptions { Revision = revision, Progress = new ConsoleDownloadProgress() });
        using var model = streamed ? null : Pretrained.Load(modelDir, device, dtype);
        ICaptureEngine engine = model is null ? LayerStreamedEngine.Open(modelDir, device, dtype, streaming) : new FullModelEngine(model);
        int maxLength = maxLengthArg ?? engine.Config.MaxPositionEmbeddings;
        if (maxLength > engine.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"--max-length {maxLength} exceeds the model's max_position_embeddings {engine.Config.MaxPositionEmbeddings}.");
        JsonTokenInput? input = json is null ? null : JsonTokenInput.Load(json);
        if (input?.Sequences.Select((row, i) => (Row: i, row.Length)).FirstOrDefault(r => r.Length > maxLength) is { Length: > 0 } tooLong)
            throw new ArgumentException($"--max-length {maxLength}: row {tooLong.Row} of {json} has {tooLong.Length} real tokens, and --json rows are " +
                                        "counted whole, not cut into windows; give a --max-length of at least its longest row.");
        var corpus = corpusName is null ? null : NamedCorpus.ForModel(corpusName, modelDir, maxLength, seed!.Value, fullLength, corpusTokens ?? NamedCorpus.DefaultBudget);
        var sequences = input?.Sequences ?? corpus?.Sequences ?? Tokenize(modelDir, texts, maxLength);
        if (sequences.Count == 0)
            throw new ArgumentException(json is not null ? $"{json} holds no token to count: every row is empty or masked out."
                : corpus is not null ? $"--data {corpusName} gives no sequence{(fullLength ? $" of the full {maxLength} tokens (--full-length)" : "")} " +
                                       $"from {corpus.Spec.Describe()}; give more --tokens."
                : $"--text {string.Join(" ", texts)}: the files hold no text.");
        if (corpus is not null && corpusTokens > corpus.Spec.Tokens)
            Console.Error.WriteLine($"capture: --tokens {corpusTokens:N0} is more than --data {corpusName} holds; all of its {corpus.Spec.Tokens:N0} tokens are used.");
        var data = json is not null ? $"json:{Path.GetFullPath(json)}"
            : corpus is not null ? corpus.Spec.Describe()
            : "text:" + string.Join(",", texts.Select(Path.GetFullPath));
        var (shardStart, shardEnd) = resumeOptions.Shard.Range(sequences.Count);
        Console.Error.WriteLine($"capture: {sequences.Count} sequences, {sequences.Sum(q => q.Length):N0} tokens, model {modelDir}" +
                                (resumeOptions.Shard == ShardSpec.Whole ? "" : $"; shard {resumeOptions.Shard}: {shardEnd - shardStart} of them") +
                                (streamed ? $", layer-streamed ({TorchRuntime.DtypeName(engine.Dtype)} on {engine.Device})" : ""));
        // The full model's chunks are single batches: each is a point the state can be saved at (ResumableCapture
        // decides when). A streamed chunk is what its residual holds and its weights are read for: one, unless chosen.
        settings = settings with { MaxLength = maxLength, ChunkSize = settings.ChunkSize ?? (streamed ? null : settings.BatchSize) };
        if (budget is { } bytes)
        {
            var plan = StreamingPlan.FromBudget(bytes, engine.Config, settings.LayerCount ?? engine.Config.NumHiddenLayers, maxLength, settings.Stats,
                engine.Dtype, engine.ResidualDtype, engine.Device.type, sequences.Count, batchSize);
            Console.Error.WriteLine($"capture: memory plan: {plan}");
            settings = settings with { BatchSize = plan.BatchSize, ChunkSize = settings.ChunkSize ?? plan.ChunkSize };
        }

        var source = StatsSource.For(commit is null ? Path.GetFullPath(modelDir) : modelArg, engine.Config, data, seed, commit);
        ResumableCapture.Run(engine, sequences, settings, source, outDir, resumeOptions with { Weights = Checkpoint.WeightsFingerprint(modelDir) });
        if (model is not null && (activations || logits))
        {
            var (ids, mask) = input?.AsBatch(model.Config.PadTokenId) ?? TokenBatches.Make(sequences, sequences.Count, model.Config.PadTokenId).Single();
            using var scope = NewDisposeScope();
            var (acts, logitValues) = ActivationDump.Run(model, ids, mask, settings.LayerCount, logits);
            ActivationDump.Save(outDir, ids, mask, activations ? acts : null, logits ? logitValues : null);
        }
        Console.Error.WriteLine($"capture: {outDir} holds the statistics (peak resident memory {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:N0} MB)");
        return 0;
    }

    static StreamingOptions StreamingArguments(Arguments a)
    {
        var spill = a.Optional("--spill");
        var place = a.Optional("--residual") switch
        {
            null => spill is null ? ResidualPlace.Device : ResidualPlace.Disk,
            "device" => ResidualPlace.Device,
            "host" => ResidualPlace.Host,
            "disk" => ResidualPlace.Disk,
            var other => throw new ArgumentException($"--residual must be device, host or disk, not '{other}'."),
        };
        if (spill is not null && place != ResidualPlace.Disk) throw new ArgumentException("--spill DIR keeps the residual on disk; it contradicts --residual " + place.ToString().ToLowerInvariant() + ".");
        var dtype = a.Optional("--residual-dtype") is { } d ? TorchRuntime.ParseDtype(d, "--residual-dtype") : (ScalarType?)null;
        return new StreamingOptions { Residual = place, SpillDirectory = spill, ResidualDtype = dtype, Log = Console.Error };
    }

    static List<long[]> Tokenize(string modelDir, IReadOnlyList<string> files, int maxLength)
    {
        var tokenizer = OptTokenizer.FromDirectory(modelDir);
        return files.SelectMany(f => TokenBatches.Windows(tokenizer.Encode(File.ReadAllText(f), addBos: false), maxLength, tokenizer.BosId)).ToList();
    }

    /// <summary>"1,2,3" (the default), any subset, or "none": the n-gram orders whose summaries are kept.</summary>
    static IReadOnlyList<int> NgramOrders(string? text)
    {
        if (text is null) return new StatsOptions().NgramOrders;
        if (text == "none") return [];
        var orders = text.Split(',').Select(part => int.TryParse(part, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 3
            ? n
            : throw new ArgumentException($"--ngram-orders must be orders 1, 2 or 3 separated by commas, or none; got '{text}'.")).ToArray();
        return orders.Distinct().Count() == orders.Length ? orders : throw new ArgumentException($"--ngram-orders lists an order twice: '{text}'.");
    }
}
