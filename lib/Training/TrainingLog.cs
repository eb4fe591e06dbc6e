using System.Diagnostics;
using System.Globalization;

namespace OptNeurons.Training;

/// <summary>
/// Progress lines of a run, to the caller's writer and appended to the run folder's train.log (so a run that spans
/// sessions keeps one record): step, loss, learning rate, tokens/s and ETA; held-out losses; plateau warnings.
/// </summary>
public sealed class TrainingLog(TextWriter? console, string logFile, int tokensPerStep, int totalSteps)
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    double intervalStart;
    int intervalSteps;

    static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    public void Line(string text)
    {
        console?.WriteLine(text);
        File.AppendAllText(logFile, text + "\n");
    }

    /// <summary>Counts a step towards the current rate interval; time spent outside steps is excluded by <see cref="Pause"/>.</summary>
    public void StepDone() => intervalSteps++;

    /// <summary>Starts a new rate interval, so evaluation and checkpoint time is not counted as training time.</summary>
    public void Pause() { intervalStart = clock.Elapsed.TotalSeconds; intervalSteps = 0; }

    public void Progress(int step, float loss, double lr)
    {
        double seconds = clock.Elapsed.TotalSeconds - intervalStart;
        double perStep = seconds / Math.Max(intervalSteps, 1);
        double tokensPerSecond = intervalSteps * (double)tokensPerStep / Math.Max(seconds, 1e-9);
        var eta = TimeSpan.FromSeconds(perStep * (totalSteps - step));
        Line(F($"step {step,7}/{totalSteps}  loss {loss,7:F4}  lr {lr:0.00e+00}  {tokensPerSecond,7:N0} tok/s  ETA {(int)eta.TotalHours}:{eta:mm\\:ss}"));
        Pause();
    }

    /// <summary>Reports an evaluation, and warns when the last <paramref name="patience"/> evaluations brought no improvement.</summary>
    public void HeldOut(IReadOnlyList<EvalPoint> evals, int patience)
    {
        var last = evals[^1];
        var best = evals.MinBy(e => e.Loss)!;
        Line(F($"eval step {last.Step}: held-out loss {last.Loss:F4} (best {best.Loss:F4} at step {best.Step})"));
        if (evals.Count <= patience) return;
        double before = evals.Take(evals.Count - patience).Min(e => e.Loss);
        double recent = evals.Skip(evals.Count - patience).Min(e => e.Loss);
        if (recent >= before)
            Line(F($"warning: held-out loss has not improved over the last {patience} evaluations (best {best.Loss:F4} at step {best.Step}); the model may be overfitting or the learning rate too high."));
    }

    public double Seconds => clock.Elapsed.TotalSeconds;
}
