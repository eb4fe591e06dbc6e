using System.Diagnostics;
using OptNeurons.Corpus;
using Xunit.Abstractions;

namespace OptNeurons.Tests.Corpus;

/// <summary>Runs only where this machine's .NET SDK has reference packs with XML docs.</summary>
public sealed class SdkDocsFactAttribute : FactAttribute
{
    public SdkDocsFactAttribute()
    {
        if (SdkDocsLocator.FindSdkRoot() is not { } root) Skip = "no .NET SDK with a packs/ folder ($DOTNET_ROOT, running runtime, dotnet on PATH)";
        else if (SdkDocsLocator.Find(root) is null) Skip = $"{root}/packs holds no reference pack with XML docs";
    }
}

public class SdkDocsIntegrationTests(ITestOutputHelper output)
{
    [SdkDocsFact]
    public void RealSdk_GivesMillionsOfCharacters_InDisjointParts()
    {
        var clock = Stopwatch.StartNew();
        var all = SdkDocsCorpus.Open();  // extracts on first use (seconds), then reads the project cache
        var s = all.Stats;
        output.WriteLine($"{all.Source}: {s.Files} files, {s.Members:N0} members; {s.RawParagraphs:N0} paragraphs / {s.RawCharacters:N0} chars " +
            $"→ {s.Paragraphs:N0} / {s.Characters:N0} unique; {s.Documents:N0} types: train {s.TrainDocuments:N0} ({s.TrainCharacters:N0} chars), " +
            $"analysis {s.AnalysisDocuments:N0} ({s.AnalysisCharacters:N0} chars); extraction took {s.ExtractSeconds} s; open {clock.ElapsedMilliseconds} ms");
        Assert.True(s.Characters > 1_000_000, $"only {s.Characters} characters");
        Assert.True(s.Paragraphs < s.RawParagraphs);
        Assert.InRange(s.AnalysisCharacters / (double)s.Characters, 0.1, 0.3);

        var trainIds = SdkDocsCorpus.Open(SdkDocsPart.Train).Documents().Select(d => d.Id).ToList();
        var analysisIds = SdkDocsCorpus.Open(SdkDocsPart.Analysis).Documents().Select(d => d.Id).ToList();
        Assert.Equal(s.TrainDocuments, trainIds.Count);
        Assert.Equal(s.AnalysisDocuments, analysisIds.Count);
        Assert.Empty(trainIds.Intersect(analysisIds));  // ids are file:line of the one cache file
        output.WriteLine($"reading both parts: {clock.ElapsedMilliseconds} ms in all");
    }
}
