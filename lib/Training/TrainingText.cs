using System.Globalization;
using OptNeurons.Corpus;
using OptNeurons.Tokenization;

namespace OptNeurons.Training;

/// <summary>
/// Plain-text files to training data: the last <c>heldOutFraction</c> of each file (cut at a line break) is held out,
/// so the held-out loss covers every kind of text in the mix; each part is tokenized with OPT's tokenizer and the
/// files are joined by &lt;/s&gt; (OPT's document separator).
/// </summary>
public static class TrainingText
{
    /// <summary>
    /// Files as given, and <see cref="NamedCorpus.SdkDocs"/> for the training part of the .NET SDK's API documentation
    /// (<see cref="SdkDocsCorpus"/>; its analysis part never reaches training). Folders contribute every *.txt below
    /// them, in ordinal name order (a fixed order for a fixed fingerprint).
    /// </summary>
    public static IReadOnlyList<string> Files(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (path == NamedCorpus.SdkDocs) files.Add(NamedCorpus.SdkDocs);
            else if (File.Exists(path)) files.Add(Path.GetFullPath(path));
            else if (Directory.Exists(path))
                files.AddRange(Directory.EnumerateFiles(path, "*.txt", SearchOption.AllDirectories).Select(Path.GetFullPath).Order(StringComparer.Ordinal));
            else throw new FileNotFoundException($"--text: '{path}' is neither a file nor a folder.", path);
        }
        if (files.Count == 0) throw new ArgumentException("--text: no text files found (folders are searched for *.txt).");
        return files;
    }

    /// <summary>The offset where the held-out tail starts: the first line start at or after (1 − fraction) of the text.</summary>
    public static int HeldOutStart(string text, double heldOutFraction)
    {
        int cut = (int)(text.Length * (1 - heldOutFraction));
        int lineBreak = text.IndexOf('\n', Math.Max(cut - 1, 0));   // cut - 1: a cut that falls on a line start stays there
        return lineBreak < 0 ? cut : lineBreak + 1;
    }

    public static TrainingData Load(IReadOnlyList<string> files, OptTokenizer tokenizer, double heldOutFraction = 0.05, TextWriter? log = null)
    {
        if (heldOutFraction is <= 0 or >= 1) throw new ArgumentException($"the held-out fraction must be in (0, 1), got {heldOutFraction}.");
        var train = new List<int>();
        var heldOut = new List<int>();
        var parts = new List<string>();
        foreach (var file in files)
        {
            var text = file == NamedCorpus.SdkDocs
                ? string.Join("\n\n", SdkDocsCorpus.Open(SdkDocsPart.Train).Documents().Select(d => d.Text))
                : File.ReadAllText(file);
            int start = HeldOutStart(text, heldOutFraction);
            var a = tokenizer.Encode(text[..start], addBos: false);
            var b = tokenizer.Encode(text[start..], addBos: false);
            if (train.Count > 0) train.Add(tokenizer.BosId);      // </s> between documents, as OPT's data has it
            if (heldOut.Count > 0 && b.Count > 0) heldOut.Add(tokenizer.BosId);
            train.AddRange(a);
            heldOut.AddRange(b);
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(file)} ({a.Count:N0} + {b.Count:N0})"));
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tokenized {file}: {a.Count:N0} training + {b.Count:N0} held-out tokens"));
        }
        var description = string.Create(CultureInfo.InvariantCulture,
            $"{files.Count} plain-text file(s), last {heldOutFraction:P0} of each held out, tokens training + held-out: {string.Join(", ", parts)}");
        return new TrainingData(train, heldOut, description);
    }
}
