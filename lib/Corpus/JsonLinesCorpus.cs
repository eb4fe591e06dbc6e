using System.IO.Compression;
using System.Text.Json;

namespace OptNeurons.Corpus;

/// <summary>Keeps a record only when the string at a dotted path (e.g. "meta.pile_set_name") equals a value.</summary>
public sealed record FieldMatch(string Field, string Value)
{
    public override string ToString() => $"{Field} == {Value}";
}

/// <summary>
/// JSON Lines (one JSON object per line; a ".gz" file is decompressed on the fly), one document per line, text taken
/// from a string field given as a dotted path. Blank lines are skipped; a record without the field, or with a
/// non-string value there, is an error naming the file and line, so a wrong field name fails loudly.
/// </summary>
public sealed class JsonLinesCorpus(string path, string textField = "text", FieldMatch? where = null) : ICorpus
{
    public string Source => $"jsonl:{path}[{textField}]" + (where is null ? "" : $" where {where}");

    public IEnumerable<Document> Documents()
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such JSON Lines file.", path);
        using var stream = OpenText(path);
        string name = Path.GetFileName(path);
        int lineNumber = 0;
        for (string? line; (line = stream.ReadLine()) is not null;)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string? text = ReadRecord(line, lineNumber);
            if (text is not null) yield return new Document($"{name}:{lineNumber}", text);
        }
    }

    /// <summary>The record's text, or null when <c>where</c> rejects it.</summary>
    string? ReadRecord(string line, int lineNumber)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e) { throw new InvalidDataException($"{path}:{lineNumber}: not valid JSON ({e.Message}).", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{path}:{lineNumber}: expected a JSON object per line, found {doc.RootElement.ValueKind}.");
            if (where is not null && !(Find(doc.RootElement, where.Field) is { ValueKind: JsonValueKind.String } v && v.GetString() == where.Value))
                return null;
            var field = Find(doc.RootElement, textField)
                ?? throw new InvalidDataException($"{path}:{lineNumber}: no field \"{textField}\"; expected each record to hold its text there.");
            return field.ValueKind == JsonValueKind.String ? field.GetString()!
                : throw new InvalidDataException($"{path}:{lineNumber}: field \"{textField}\" is {field.ValueKind}, expected a string.");
        }
    }

    static JsonElement? Find(JsonElement element, string dottedPath)
    {
        foreach (var key in dottedPath.Split('.'))
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(key, out element)) return null;
        }
        return element;
    }

    static StreamReader OpenText(string path)
    {
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) stream = new GZipStream(stream, CompressionMode.Decompress);
        return new StreamReader(stream, System.Text.Encoding.UTF8);
    }
}
