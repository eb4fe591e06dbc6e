using OptNeurons.Findings;
using OptNeurons.Tokenization;

namespace OptNeurons.Workbook;

/// <summary>A handful of inputs for a quick look at a model, for tours and smoke runs, not for findings.</summary>
public static class SampleInputs
{
    public static IReadOnlyList<string> Sentences { get; } =
    [
        "The quick brown fox jumps over the lazy dog.",
        "Neurons in large language models can be dead, detect n-grams, or track positions.",
        "In 1969, two astronauts walked on the Moon while a third orbited above them.",
        "def add(a, b):\n    return a + b",
        "Paris is the capital of France, and Berlin is the capital of Germany.",
    ];

    /// <summary>
    /// <see cref="Sentences"/> tokenized with the model's own tokenizer when its folder has one (vocab.json + merges.txt);
    /// otherwise the reference fixture's stats sequences (the fixture's 4096-token vocabulary has no tokenizer files).
    /// </summary>
    public static (IReadOnlyList<long[]> Sequences, string Description) For(NotebookSettings settings)
    {
        if (!NotebookData.HasTokenizer(settings.ModelDirectory))
            return (ReferenceFixture.Open(settings.FixtureDirectory).StatsSequences, "the reference fixture's stats_sequences");
        var tokenizer = OptTokenizer.FromDirectory(settings.ModelDirectory);
        return (Sentences.Select(s => tokenizer.Encode(s).Select(id => (long)id).ToArray()).ToArray(), $"{Sentences.Count} sample sentences");
    }
}
