using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using OptNeurons.Capture;
using OptNeurons.Corpus;
using OptNeurons.Findings;
using OptNeurons.Model;
using OptNeurons.Stats;

namespace OptNeurons.Workbook;

/// <summary>
/// The sequences a notebook counts on: the settings' corpus (default <c>sdk-docs</c>, the analysis part of the .NET
/// SDK's API documentation, which the embedded models never saw in training), sampled with the settings' seed to the
/// settings' token budget and packed into full-length sequences of the model's context length, BOS first. Full length
/// only, so every position is counted equally often (the positional analysis needs it; paper, Appendix B.1).
/// A model folder without tokenizer files (the reference fixture) counts on the fixture's own sequences instead.
/// </summary>
public sealed record NotebookData(IReadOnlyList<long[]> Sequences, string Description, long? Seed)
{
    public long Tokens => Sequences.Sum(s => (long)s.Length);

    public static NotebookData For(NotebookSettings settings, OptConfig config)
    {
        if (!HasTokenizer(settings.ModelDirectory))
            return new(ReferenceFixture.Open(settings.FixtureDirectory).StatsSequences, "the reference fixture's stats_sequences", null);
        var corpus = NamedCorpus.ForModel(settings.Corpus ?? NamedCorpus.SdkDocs, settings.ModelDirectory, config.MaxPositionEmbeddings,
                                          settings.Seed, fullLengthOnly: true, settings.Tokens ?? NamedCorpus.DefaultBudget);
        return new(corpus.Sequences, corpus.Spec.Describe(), settings.Seed);
    }

    internal static bool HasTokenizer(string directory) =>
        File.Exists(Path.Combine(directory, "vocab.json")) && File.Exists(Path.Combine(directory, "merges.txt"));
}

/// <summary>
/// Neuron statistics for the notebooks, captured once per model, data and settings and then read from
/// <c>.cache/stats/</c> (see <see cref="ProjectCache"/>) by every later notebook and rerun. The capture is resumable,
/// so a notebook stopped mid-capture carries on where it was; a cached folder is reused only when its job (model,
/// config hash, data hash, options, …) is this one, which <see cref="ResumableCapture"/> checks field by field.
/// </summary>
public static class NotebookStatistics
{
    /// <summary>Statistics of <paramref name="model"/> on <paramref name="data"/>, every layer, default options.</summary>
    /// <param name="modelId">What the manifest records: the hub id or folder the model was asked for by.</param>
    /// <param name="modelDirectory">Its local folder, whose files key the cache.</param>
    public static NeuronStats Capture(OptForCausalLM model, string modelId, string modelDirectory, string? revision, NotebookData data, TextWriter? log = null)
    {
        var settings = new CaptureSettings { BatchSize = 16, ChunkSize = 256 };
        var source = StatsSource.For(modelId, model.Config, data.Description, data.Seed, revision);
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(modelId));
        var folder = Path.Combine(ProjectCache.Root, "stats", $"{Safe(name)}-{Key(modelDirectory, data, settings)}");
        try
        {
            return ResumableCapture.Run(new FullModelEngine(model), data.Sequences, settings, source, folder, new ResumableCaptureOptions { Log = log });
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{e.Message} The folder is a cache: delete {folder} to count these statistics anew.", e);
        }
    }

    /// <summary>
    /// The cache key: the weights (file names, sizes and modification times: hashing a 66b checkpoint would take
    /// minutes), the data, the settings and the device. A retrained model gets a new key, so stale statistics are never read.
    /// </summary>
    static string Key(string modelDirectory, NotebookData data, CaptureSettings settings)
    {
        var text = new StringBuilder();
        foreach (var file in Directory.EnumerateFiles(modelDirectory).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            text.Append(CultureInfo.InvariantCulture, $"{info.Name}\t{info.Length}\t{info.LastWriteTimeUtc.Ticks}\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"{CaptureJob.HashSequences(data.Sequences)}\t{data.Description}\t{data.Seed}\t{settings}\t{settings.Stats.Describe()}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..12];
    }

    static string Safe(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_'));
}
