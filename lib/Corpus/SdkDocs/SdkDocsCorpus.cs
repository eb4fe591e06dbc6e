using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using OptNeurons.Runtime;

namespace OptNeurons.Corpus;

/// <summary>Which documents of the SDK docs corpus to read.</summary>
public enum SdkDocsPart { All, Train, Analysis }

/// <summary>
/// The embedded default corpus: English text of the .NET SDK's XML API docs, present on every machine with the SDK
/// and no internet. The first use extracts it (<see cref="SdkDocsExtractor"/>) into the project cache as
/// <c>sdk-docs/&lt;key&gt;.jsonl</c> (one {"id", "split", "text"} object per type) plus <c>&lt;key&gt;.stats.json</c>,
/// both written atomically and keyed by the pack versions and the extraction format; later uses only read them.
/// </summary>
public sealed class SdkDocsCorpus : ICorpus
{
    /// <summary>Bump when extraction rules change, so old caches are not reused.</summary>
    public const int FormatVersion = 1;

    readonly JsonLinesCorpus lines;

    SdkDocsCorpus(string key, SdkDocsPart part, string cacheFile, SdkDocsStats stats)
    {
        Part = part;
        CacheFile = cacheFile;
        Stats = stats;
        Source = $"sdk-docs:{key} ({part.ToString().ToLowerInvariant()})";
        lines = new JsonLinesCorpus(cacheFile, "text", part switch
        {
            SdkDocsPart.Train => new FieldMatch("split", SdkDocsExtractor.Train),
            SdkDocsPart.Analysis => new FieldMatch("split", SdkDocsExtractor.Analysis),
            _ => null,
        });
    }

    public string Source { get; }
    public SdkDocsPart Part { get; }
    public string CacheFile { get; }
    /// <summary>Sizes of the whole extraction (both parts), and how long it took when it ran.</summary>
    public SdkDocsStats Stats { get; }

    public IEnumerable<Document> Documents() => lines.Documents();

    /// <summary>The corpus from this machine's SDK (see <see cref="SdkDocsLocator"/>), cached under <see cref="ProjectCache.Root"/> unless a folder is given.</summary>
    public static SdkDocsCorpus Open(SdkDocsPart part = SdkDocsPart.All, string? cacheDirectory = null)
    {
        var root = SdkDocsLocator.FindSdkRoot()
            ?? throw new InvalidOperationException("no .NET SDK with a packs/ folder found (looked at $DOTNET_ROOT, the running runtime and dotnet on PATH).");
        var source = SdkDocsLocator.Find(root)
            ?? throw new InvalidOperationException($"{root}: no reference pack with XML docs under packs/ ({string.Join(", ", SdkDocsLocator.PackNames)}).");
        return Open(source, part, cacheDirectory ?? ProjectCache.Root);
    }

    public static SdkDocsCorpus Open(SdkDocsSource source, SdkDocsPart part, string cacheDirectory)
    {
        string key = $"v{FormatVersion}-{source.CacheKey}";
        string data = Path.Combine(cacheDirectory, "sdk-docs", key + ".jsonl"), statsFile = Path.ChangeExtension(data, ".stats.json");
        if (!File.Exists(data) || !File.Exists(statsFile))
        {
            var (docs, stats) = SdkDocsExtractor.Extract(source.Files);
            if (docs.Count == 0) throw new InvalidDataException($"{string.Join(", ", source.Packs)}: the XML docs hold no text.");
            AtomicFile.Write(data, stream => WriteLines(stream, docs));
            AtomicFile.Write(statsFile, stream => JsonSerializer.Serialize(stream, stats, Json));
        }
        using var statsStream = File.OpenRead(statsFile);
        var cached = JsonSerializer.Deserialize<SdkDocsStats>(statsStream, Json) ?? throw new InvalidDataException($"{statsFile}: empty.");
        return new SdkDocsCorpus(key, part, data, cached);
    }

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    };

    static void WriteLines(Stream stream, IEnumerable<SdkDoc> docs)
    {
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
        var line = new JsonSerializerOptions(Json) { WriteIndented = false };
        foreach (var d in docs) writer.WriteLine(JsonSerializer.Serialize(new { id = d.Type, split = d.Split, text = d.Text }, line));
    }
}
