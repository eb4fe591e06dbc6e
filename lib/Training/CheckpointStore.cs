using OptNeurons.Loading;
using OptNeurons.Model;
using static TorchSharp.torch;

namespace OptNeurons.Training;

/// <summary>
/// The run folder's last checkpoint: a HF snapshot (fp32) plus trainer_state.json and optimizer.safetensors (AdamW
/// moments and the torch RNG state that drives dropout). A checkpoint is written whole into a temporary folder, with
/// trainer_state.json last, and only then renamed into place; the previous one is kept until the rename is done, so
/// a crash at any moment leaves one complete checkpoint.
/// </summary>
public static class CheckpointStore
{
    public const string Current = "checkpoint", Previous = "checkpoint.old", StateFile = "trainer_state.json", OptimizerFile = "optimizer.safetensors";
    const string RngKey = "torch_rng_state";

    public static void Save(string runDir, OptForCausalLM model, NamedAdamW optimizer, TrainerState state, string tokenizerDir)
    {
        var temp = Path.Combine(runDir, $"{Current}.tmp");
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        HfSnapshot.Write(model, temp, ScalarType.Float32, tokenizerDir);
        using (var rng = random.get_rng_state())
        {
            var tensors = optimizer.StateTensors();
            tensors[RngKey] = rng;
            SafeTensors.Write(Path.Combine(temp, OptimizerFile), tensors);
        }
        File.WriteAllText(Path.Combine(temp, StateFile), state.ToJson());   // the completion marker: written last

        string current = Path.Combine(runDir, Current), previous = Path.Combine(runDir, Previous);
        if (Directory.Exists(current))
        {
            if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
            Directory.Move(current, previous);
        }
        Directory.Move(temp, current);
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
    }

    /// <summary>The newest complete checkpoint folder of the run, or null: checkpoint/, else checkpoint.old/ (a crash between the two renames).</summary>
    public static string? FindLatest(string runDir) =>
        new[] { Current, Previous }.Select(d => Path.Combine(runDir, d))
            .FirstOrDefault(d => File.Exists(Path.Combine(d, StateFile)));

    /// <summary>Loads weights (strictly, with the project's loader), optimizer moments and the torch RNG state.</summary>
    public static void Restore(string checkpointDir, OptForCausalLM model, NamedAdamW optimizer, TrainerState state)
    {
        CheckpointLoader.Load(model, Checkpoint.Open(checkpointDir));
        var path = Path.Combine(checkpointDir, OptimizerFile);
        var tensors = SafeTensors.ReadAll(path);
        try
        {
            optimizer.LoadState(tensors, state.Step, path);
            if (!tensors.TryGetValue(RngKey, out var rng)) throw new InvalidDataException($"{path}: no '{RngKey}' (the dropout generator's state).");
            random.set_rng_state(rng);
        }
        finally { foreach (var t in tensors.Values) t.Dispose(); }
    }
}
