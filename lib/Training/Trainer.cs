using System.Globalization;
using OptNeurons.Model;
using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Training;

/// <summary>
/// Trains an OPT from scratch on a token stream, checkpointing into a run folder and resuming from it:
/// <c>Trainer.Train(settings, data, "runs/opt-tiny")</c>. Run folder: checkpoint/ (HF snapshot + trainer state),
/// tokenizer/, train.log, final/ (the exported model and its MODEL_CARD.md), steps/ (optional kept snapshots).
/// </summary>
public static class Trainer
{
    public const string FinalDir = "final";

    public static TrainingResult Train(TrainingSettings settings, TrainingData data, string runDir, TrainOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(data);
        options ??= new TrainOptions();
        settings.Validate();
        TorchRuntime.Initialize();
        if (settings.Threads > 0) set_num_threads(settings.Threads);
        Directory.CreateDirectory(runDir);
        var tokenizerDir = HfSnapshot.EnsureTokenizer(Path.Combine(runDir, "tokenizer"));
        var config = settings.ModelConfig();
        CheckTokens(data, config);

        using var model = new OptForCausalLM(config);
        using var optimizer = new NamedAdamW(TrainableParameters(model, settings), settings.Beta1, settings.Beta2, settings.Eps, settings.WeightDecay);
        var log = new TrainingLog(options.Log, Path.Combine(runDir, "train.log"), settings.BatchSize * settings.Context, settings.Steps);
        var (state, rng) = StartOrResume(settings, data, runDir, model, optimizer, log);
        double wallBefore = state.WallSeconds;
        TrainerState Snapshot(int step) => state with { Step = step, SamplerState = rng.State, WallSeconds = wallBefore + log.Seconds };
        int step = state.Step;
        int lastSaved = step;
        var parameters = optimizer.Parameters.Select(p => p.Parameter).ToList();
        void Save(int step)
        {
            // A finite loss can still follow an update that overflowed a weight: such weights are never checkpointed.
            if (!AllFinite(parameters)) throw Diverged(step, "a weight is no longer finite", settings.LearningRate(step), lastSaved, runDir);
            CheckpointStore.Save(runDir, model, optimizer, Snapshot(step), tokenizerDir);
            log.Pause();
        }
        model.train();
        log.Pause();
        while (step < settings.Steps)
        {
            step++;
            double lr = settings.LearningRate(step);
            using (var scope = NewDisposeScope())
            {
                var (input, target) = Windows.Random(data.Train, settings.Context, settings.BatchSize, rng, config.BosTokenId);
                var loss = LanguageModelLoss.Compute(model, input, target, settings.Bf16Head);
                float value = loss.item<float>();
                if (!float.IsFinite(value)) throw Diverged(step, $"the training loss is {value}", lr, lastSaved, runDir);
                loss.backward();
                double norm = settings.GradClip > 0 ? nn.utils.clip_grad_norm_(parameters, settings.GradClip) : 0;
                if (!double.IsFinite(norm)) throw Diverged(step, $"the gradient norm is {norm}", lr, lastSaved, runDir);
                optimizer.Step(lr);
                optimizer.ZeroGrad();
                state.Losses.Add(value);
                log.StepDone();
                if (step % settings.LogEvery == 0 || step == settings.Steps) log.Progress(step, value, lr);
            }
            if (step % settings.EvalEvery == 0 || step == settings.Steps)
            {
                state.Evals.Add(new EvalPoint(step, LanguageModelLoss.HeldOut(model, data.HeldOut, settings, config.BosTokenId)));
                log.HeldOut(state.Evals, settings.PlateauEvals);
                log.Pause();
            }
            // Stop when one more step (at this session's average pace) would overrun the budget.
            bool stop = step == options.StopAfterStep || (options.TimeBudget is { } budget && log.Seconds * (1 + 1.0 / (step - state.Step)) > budget.TotalSeconds);
            if (step % settings.CheckpointEvery == 0 || step == settings.Steps || stop) { Save(step); lastSaved = step; }
            if (settings.KeepEvery > 0 && step % settings.KeepEvery == 0) Keep(model, runDir, step, tokenizerDir);
            if (stop && step < settings.Steps)
            {
                log.Line($"stopping after step {step} of {settings.Steps}; the run continues from {Path.Combine(runDir, CheckpointStore.Current)} on the next call.");
                return new TrainingResult(step, false, state.Losses, state.Evals, Path.Combine(runDir, CheckpointStore.Current), null, wallBefore + log.Seconds);
            }
        }
        var final = Path.Combine(runDir, FinalDir);
        var finalState = Snapshot(step);
        var dtype = options.FinalFp16 ? ScalarType.Float16 : ScalarType.Float32;
        HfSnapshot.WriteAtomically(model, final, dtype, tokenizerDir, dir => ModelCard.Write(dir, model, finalState, data, dtype, options.CommandLine));
        log.Line($"done: {step} steps; the model and its {ModelCard.FileName} are in {final}");
        return new TrainingResult(step, true, state.Losses, state.Evals, Path.Combine(runDir, CheckpointStore.Current), final, finalState.WallSeconds);
    }

    /// <summary>Every distinct parameter (the tied head once) with its weight-decay flag: matrices only, embeddings as the settings say.</summary>
    public static IReadOnlyList<TrainedParameter> TrainableParameters(OptForCausalLM model, TrainingSettings settings)
    {
        var list = new List<TrainedParameter>();
        foreach (var (name, p) in OptParameters.Distinct(model))
        {
            bool decay = name.Contains("embed_tokens", StringComparison.Ordinal) ? settings.DecayTokenEmbeddings
                       : name.Contains("embed_positions", StringComparison.Ordinal) ? settings.DecayPositionEmbeddings
                       : p.dim() >= 2 && !name.Contains("layer_norm", StringComparison.Ordinal);
            list.Add(new TrainedParameter(name, p, decay));
        }
        return list;
    }

    static (TrainerState, Xoshiro256) StartOrResume(TrainingSettings settings, TrainingData data, string runDir, OptForCausalLM model, NamedAdamW optimizer, TrainingLog log)
    {
        var fingerprint = data.Fingerprint();
        var latest = CheckpointStore.FindLatest(runDir);
        if (latest is null)
        {
            OptInitializer.Apply(model, settings.Seed);
            random.manual_seed(settings.Seed);   // dropout's generator
            var rng = new Xoshiro256((ulong)settings.Seed);
            log.Line(string.Create(CultureInfo.InvariantCulture, $"new run in {runDir}: {settings.Steps} steps of {settings.BatchSize} × {settings.Context} tokens, {data.Train.Length:N0} training tokens, seed {settings.Seed}"));
            return (new TrainerState { Settings = settings, DataFingerprint = fingerprint, TrainTokens = data.Train.Length, HeldOutTokens = data.HeldOut.Length, SamplerState = rng.State }, rng);
        }
        var state = TrainerState.Load(Path.Combine(latest, CheckpointStore.StateFile));
        var differences = settings.DifferencesFrom(state.Settings);
        if (differences.Count > 0)
            throw new InvalidOperationException($"{latest} was trained with other settings, so the run cannot resume: {string.Join("; ", differences)}. Use the checkpoint's settings or another --out folder.");
        if (state.DataFingerprint != fingerprint)
            throw new InvalidOperationException($"{latest} was trained on other data (fingerprint {state.DataFingerprint}, {state.TrainTokens:N0} + {state.HeldOutTokens:N0} tokens; now {fingerprint}, {data.Train.Length:N0} + {data.HeldOut.Length:N0}), so the run cannot resume.");
        CheckpointStore.Restore(latest, model, optimizer, state);
        log.Line($"resuming {runDir} from step {state.Step} of {settings.Steps} ({latest})");
        return (state, new Xoshiro256(state.SamplerState));
    }

    static InvalidOperationException Diverged(int step, string what, double lr, int lastSaved, string runDir) =>
        new(string.Create(CultureInfo.InvariantCulture, $"step {step}: {what} (learning rate {lr:g3}); training stopped. Nothing was written for this step; ") +
            (lastSaved > 0 ? $"the last checkpoint (step {lastSaved}) in {runDir} is intact." : "no checkpoint had been written yet."));

    static bool AllFinite(IEnumerable<Tensor> tensors)
    {
        using var scope = NewDisposeScope();
        return tensors.All(t => t.isfinite().all().item<bool>());
    }

    static void Keep(OptForCausalLM model, string runDir, int step, string tokenizerDir) =>
        HfSnapshot.WriteAtomically(model, Path.Combine(runDir, "steps", $"step-{step:D6}"), ScalarType.Float16, tokenizerDir);

    static void CheckTokens(TrainingData data, OptConfig config)
    {
        foreach (var (name, stream) in new[] { ("training", data.Train), ("held-out", data.HeldOut) })
            if (stream.Length > 0 && (stream.Max() >= config.VocabSize || stream.Min() < 0))
                throw new ArgumentException($"the {name} stream holds token ids outside 0..{config.VocabSize - 1} (vocab_size {config.VocabSize}).");
    }
}
