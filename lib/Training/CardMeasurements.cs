using System.Globalization;
using System.Text;
using OptNeurons.Capture;
using OptNeurons.Findings;
using OptNeurons.Model;
using OptNeurons.Stats;
using static TorchSharp.torch;

namespace OptNeurons.Training;

/// <summary>
/// What a model card reports about a trained model beyond its training log, measured on analysis sequences it never
/// trained on: the loss there (reproducible on any machine, unlike the training held-out loss, which needs the
/// training text), and the paper's phenomena with the workbook's default settings, beside the untrained baseline.
/// </summary>
/// <param name="LossSequences">How many of the sequences the loss was averaged over (the first ones).</param>
/// <param name="Loss">Mean next-token cross-entropy over every position of those sequences (nats).</param>
public sealed record CardMeasurements(
    string Data, long Tokens, int LossSequences, double Loss, IReadOnlyList<DeadNeuronRow> Dead, int TokenDetectors,
    IReadOnlyList<PositionalNeuron> Positional, int UntrainedSequences, int UntrainedDead, int UntrainedPositional)
{
    public const string Heading = "## Measured on the analysis corpus";
    public const int DefaultLossSequences = 256;

    /// <summary>Loss on the first <paramref name="lossSequences"/> sequences; statistics on all of them; the untrained baseline on the first <paramref name="untrainedSequences"/>.</summary>
    public static CardMeasurements Measure(OptForCausalLM model, IReadOnlyList<long[]> sequences, string data, long seed,
                                           int lossSequences = DefaultLossSequences, int untrainedSequences = 400)
    {
        var stats = NeuronCapture.Run(model, sequences, new CaptureSettings { BatchSize = 16 }, StatsSource.Unknown);
        var m = new ModelStats("model", model.NumLayers, stats);
        using var untrained = OptInitializer.Untrained(model.Config, seed);
        var baseline = new ModelStats("untrained", model.NumLayers,
            NeuronCapture.Run(untrained, sequences.Take(untrainedSequences).ToList(), new CaptureSettings { BatchSize = 16 }, StatsSource.Unknown));
        return new CardMeasurements(data, stats.TokenCount, Math.Min(lossSequences, sequences.Count), MeanLoss(model, sequences.Take(lossSequences).ToList()),
            DeadNeurons.PerLayer(m), NgramDetectors.Find(m).Detectors.Count, PositionalNeurons.Find(m),
            Math.Min(untrainedSequences, sequences.Count), DeadNeurons.PerLayer(baseline).Sum(r => r.Dead), PositionalNeurons.Find(baseline).Count);
    }

    /// <summary>Mean cross-entropy of predicting each token of each sequence from the ones before it (float32, eval mode).</summary>
    public static double MeanLoss(OptForCausalLM model, IReadOnlyList<long[]> sequences)
    {
        if (sequences.Count == 0 || sequences.Any(s => s.Length != sequences[0].Length || s.Length < 2))
            throw new ArgumentException("the loss needs at least one sequence, all of one length ≥ 2.", nameof(sequences));
        model.eval();
        using var noGrad = no_grad();
        double sum = 0;
        foreach (var batch in sequences.Chunk(16))
        {
            using var scope = NewDisposeScope();
            var ids = tensor(batch.SelectMany(s => s).ToArray(), [batch.Length, batch[0].Length]).to(model.Decoder.Device);
            long t = ids.shape[1];
            sum += LanguageModelLoss.Compute(model, ids.narrow(1, 0, t - 1), ids.narrow(1, 1, t - 1)).item<float>() * batch.Length;
        }
        return sum / sequences.Count;
    }

    /// <summary>The card section: a heading, a table of the phenomena, and one row per layer.</summary>
    public string ToMarkdown(string command)
    {
        var c = CultureInfo.InvariantCulture;
        int neurons = Dead.Sum(r => r.FfnDim), dead = Dead.Sum(r => r.Dead);
        var text = new StringBuilder();
        void Row(string name, FormattableString value) => text.Append(c, $"| {name} | {value.ToString(c)} |\n");
        text.Append(Heading).Append("\n\n");
        text.Append(c, $"Data: {Data}. Measured with the workbook's default settings (lib/Findings/README.md); the untrained ");
        text.Append(c, $"baseline is the same architecture with OPT's initialisation and the same seed, on the first {UntrainedSequences} sequences.\n\n");
        text.Append("| | |\n|---|---|\n");
        Row("analysis loss", $"{Loss:F4} nats (perplexity {Math.Exp(Loss):F1}), mean over every position of the first {LossSequences} sequences");
        Row("dead neurons", $"{dead} of {neurons} ({100.0 * dead / neurons:F1} %); untrained: {UntrainedDead}");
        Row("dead per layer", $"{string.Join(" / ", Dead.Select(r => r.Dead))}");
        Row("alive-neuron firing frequency per layer", $"{string.Join(" / ", Dead.Select(r => r.MeanAliveFrequency.ToString("F3", c)))}");
        Row("token detectors (first half)", $"{TokenDetectors}");
        Row("positional neurons (I > 0.05 nats)", $"{Positional.Count}; untrained: {UntrainedPositional}");
        Row("positional per layer", $"{string.Join(" / ", Dead.Select(r => Positional.Count(p => p.Layer == r.Layer)))}");
        Row("oscillatory positional neurons", $"{Positional.Count(p => p.Type == PatternType.Oscillatory)} ({Positional.Count(p => p.Type == PatternType.Oscillatory && p.Strong)} strong)");
        var absent = new List<string>();
        if (dead == 0) absent.Add("dead neurons");
        if (TokenDetectors == 0) absent.Add("token detectors (the paper's three steps at 95 %; see notebook 02 for looser thresholds)");
        if (Positional.Count == 0) absent.Add("positional neurons");
        if (!Positional.Any(p => p.Type == PatternType.Oscillatory)) absent.Add("oscillatory positional neurons (the paper's 125m has them only after 300k batches, Fig. 11)");
        text.Append(c, $"\nNot seen at this scale: {(absent.Count == 0 ? "nothing the table measures" : string.Join("; ", absent))}.\n");
        text.Append(c, $"\nMeasured by:\n\n```\n{command}\n```\n");
        return text.ToString();
    }

    /// <summary>The card with this section in place of any earlier one (everything from the heading on is replaced).</summary>
    public static string Replace(string card, string section)
    {
        int at = card.IndexOf(Heading, StringComparison.Ordinal);
        return (at < 0 ? card.TrimEnd() + "\n\n" : card[..at]) + section;
    }

    /// <summary>The analysis loss a card states, for checking it against a re-measurement.</summary>
    public static double StatedLoss(string card)
    {
        var match = System.Text.RegularExpressions.Regex.Match(card, @"\| analysis loss \| ([0-9.]+) nats");
        return match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidDataException($"the model card has no '| analysis loss |' row under '{Heading}'.");
    }
}
