using System.Text.Json;

namespace OptNeurons.Training;

/// <summary>A held-out evaluation: the mean next-token loss over the fixed held-out batches after <see cref="Step"/> updates.</summary>
public sealed record EvalPoint(int Step, double Loss);

/// <summary>
/// What a checkpoint needs beyond weights and optimizer moments to continue exactly: the step, the settings and data
/// it was trained with, the window sampler's state and the history so far. Stored as trainer_state.json.
/// </summary>
public sealed record TrainerState
{
    public int Step { get; init; }
    public required TrainingSettings Settings { get; init; }
    public required string DataFingerprint { get; init; }
    public long TrainTokens { get; init; }
    public long HeldOutTokens { get; init; }
    public required ulong[] SamplerState { get; init; }
    /// <summary>Training loss of every update, in order (float32, as computed).</summary>
    public List<float> Losses { get; init; } = [];
    public List<EvalPoint> Evals { get; init; } = [];
    /// <summary>Seconds spent training, summed over every session of the run.</summary>
    public double WallSeconds { get; init; }

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainerState Load(string path)
    {
        try { return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty trainer state."); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid trainer state ({e.Message}).", e); }
    }
}
