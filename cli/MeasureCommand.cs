using OptNeurons.Corpus;
using OptNeurons.Loading;
using OptNeurons.Runtime;
using OptNeurons.Training;

namespace OptNeurons.Cli;

/// <summary>optneurons measure: the numbers a model card states about a trained model, measured on analysis text.</summary>
static class MeasureCommand
{
    public const string Help = """
        usage: optneurons measure --model DIR [--data NAME] [--seed N] [--update-card]

          Measures the analysis loss, dead neurons, token detectors and positional neurons of a model (and of the same
          architecture untrained) on a named corpus packed into full-length sequences of the model's context, and prints
          them as a model-card section.
          --data NAME      sdk-docs (default: the SDK documentation the embedded models never trained on) or a recipe
          --seed N         sampling seed and untrained model's seed (0)
          --update-card    also write the section into DIR/MODEL_CARD.md, replacing an earlier one
        """;

    public static int Run(IReadOnlyList<string> rawArgs)
    {
        var a = new Arguments(rawArgs, new HashSet<string> { "--update-card" });
        string modelDir = a.Required("--model"), data = a.Optional("--data") ?? NamedCorpus.SdkDocs;
        long seed = a.Long("--seed", 0) ?? 0;
        bool update = a.Flag("--update-card");
        a.RejectUnknown();

        TorchRuntime.Initialize();
        using var model = Pretrained.Load(modelDir, "cpu", "float32");
        var corpus = NamedCorpus.ForModel(data, modelDir, model.Config.MaxPositionEmbeddings, seed, fullLengthOnly: true);
        Console.Error.WriteLine($"measure: {corpus.Spec.Describe()}");
        var measured = CardMeasurements.Measure(model, corpus.Sequences, corpus.Spec.Describe(), seed);
        var section = measured.ToMarkdown($"optneurons measure --model {modelDir} --data {data} --seed {seed}");
        Console.WriteLine(section);
        if (update)
        {
            var card = Path.Combine(modelDir, ModelCard.FileName);
            var text = CardMeasurements.Replace(File.Exists(card) ? File.ReadAllText(card) : "", section);
            AtomicFile.WriteAllText(card, text);
            Console.Error.WriteLine($"measure: updated {card}");
        }
        return 0;
    }
}
