namespace OptNeurons.Training;

/// <summary>How one call of <see cref="Trainer.Train"/> runs; none of this changes what is learned.</summary>
public sealed record TrainOptions
{
    /// <summary>Where progress lines go (besides the run's train.log); null: only the log file.</summary>
    public TextWriter? Log { get; init; }
    /// <summary>The command that started the run, recorded in the model card.</summary>
    public string? CommandLine { get; init; }
    /// <summary>Checkpoint and return after this step (the run continues on the next call): runs that span sessions.</summary>
    public int? StopAfterStep { get; init; }
    /// <summary>Checkpoint and return before this much wall time is used in this call.</summary>
    public TimeSpan? TimeBudget { get; init; }
    /// <summary>final/ stores float16 weights (the shipped size) unless this is false.</summary>
    public bool FinalFp16 { get; init; } = true;
}

/// <summary>Where a call of <see cref="Trainer.Train"/> left the run.</summary>
/// <param name="Completed">True when every step of the settings is done and final/ is written.</param>
/// <param name="FinalDir">The exported model with its MODEL_CARD.md, when completed.</param>
public sealed record TrainingResult(int Step, bool Completed, IReadOnlyList<float> Losses, IReadOnlyList<EvalPoint> Evals,
                                    string CheckpointDir, string? FinalDir, double WallSeconds);
