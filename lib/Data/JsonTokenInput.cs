using System.Text.Json;

namespace OptNeurons.Data;

/// <summary>
/// Pre-tokenized input: a JSON file {"input_ids": [[…], …], "attention_mask": [[…], …]} (mask optional). Rows may
/// differ in length. Masked positions are dropped, so each sequence is its real tokens only and is re-padded per batch.
/// </summary>
public static class JsonTokenInput
{
    public static List<long[]> Load(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("input_ids", out var idsElement))
                throw new InvalidDataException($"{path}: expected an object with \"input_ids\": [[token ids], …].");
            var ids = Rows(idsElement, path, "input_ids");
            if (!doc.RootElement.TryGetProperty("attention_mask", out var maskElement)) return ids;
            var mask = Rows(maskElement, path, "attention_mask");
            if (mask.Count != ids.Count)
                throw new InvalidDataException($"{path}: attention_mask has {mask.Count} rows, input_ids has {ids.Count}.");
            var sequences = new List<long[]>(ids.Count);
            for (int r = 0; r < ids.Count; r++)
            {
                if (mask[r].Length != ids[r].Length)
                    throw new InvalidDataException($"{path}: row {r} has {ids[r].Length} input_ids but {mask[r].Length} attention_mask values.");
                if (mask[r].Any(m => m is not (0 or 1)))
                    throw new InvalidDataException($"{path}: attention_mask row {r} holds a value other than 0 or 1.");
                sequences.Add(ids[r].Where((_, i) => mask[r][i] == 1).ToArray());
            }
            return sequences.Where(s => s.Length > 0).ToList();
        }
    }

    static List<long[]> Rows(JsonElement element, string path, string key)
    {
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() == 0)
            throw new InvalidDataException($"{path}: \"{key}\" must be a non-empty array of arrays of integers.");
        var rows = new List<long[]>();
        foreach (var row in element.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: \"{key}\" row {rows.Count} is not an array.");
            rows.Add(row.EnumerateArray().Select(v => v.TryGetInt64(out var x) ? x
                : throw new InvalidDataException($"{path}: \"{key}\" row {rows.Count} holds {v}, not an integer.")).ToArray());
        }
        return rows;
    }
}
