using System.Security.Cryptography;
using System.Text;
using OptNeurons.Capture;
using OptNeurons.Corpus;
using OptNeurons.Findings;
using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Runtime;
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
    /// <param name="modelDirectory">Its local folder, whose weights' fingerprint keys the cache.</param>
    public static NeuronStats Capture(OptForCausalLM model, string modelId, string modelDirectory, string? revision, NotebookData data, TextWriter? log = null)
    {
        var settings = new CaptureSettings { BatchSize = 16, ChunkSize = 256 };
        var source = StatsSource.For(modelId, model.Config, data.Description, data.Seed, revision);
        var engine = new FullModelEngine(model);
        var options = new ResumableCaptureOptions { Log = log, Weights = Checkpoint.WeightsFingerprint(modelDirectory) };
        var key = Key(options.Weights, source.ConfigHash, CaptureJob.HashSequences(data.Sequences), data.Description, $"{data.Seed}", $"{settings}",
                      settings.Stats.Describe(), TorchRuntime.DtypeName(engine.Dtype), $"{engine.Device.type}", StatsManifest.CurrentLibraryVersion);
        var folder = Path.Combine(ProjectCache.Root, "stats", $"{Safe(NotebookSettings.NameOf(modelId))}-{key}");
        try
        {
            return ResumableCapture.Run(engine, data.Sequences, settings, source, folder, options);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{e.Message} The folder is a cache: delete {folder} to count these statistics anew.", e);
        }
    }

    /// <summary>
    /// The cache key: a hash of what decides the numbers (weights' fingerprint, config, data, settings, dtype, device,
    /// and the library's version and commit), so a retrained model, another dtype or a changed collector gets a folder
    /// of its own and never meets statistics counted for another.
    /// </summary>
    static string Key(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts))))[..12];

    static string Safe(string name) => string.Concat(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_'));
}
