using System.Text.Json;

namespace OptNeurons.Data;

/// <summary>
/// Pre-tokenized input: a JSON file {"input_ids": [[…], …], "attention_mask": [[…], …]} (mask optional, rows may
/// differ in length). <see cref="Rows"/> keeps the rows exactly as given (for activation dumps that must line up
/// with the caller's layout); <see cref="Sequences"/> keeps only the real tokens of each row, to be re-batched.
/// </summary>
public sealed record JsonTokenInput(IReadOnlyList<long[]> Rows, IReadOnlyList<long[]> Masks)
{
    public IReadOnlyList<long[]> Sequences => Rows.Select((r, i) => r.Where((_, j) => Masks[i][j] == 1).ToArray()).Where(s => s.Length > 0).ToList();

    /// <summary>The rows as one (B, T) batch and its mask; rows of different lengths are right-padded with <paramref name="padId"/>.</summary>
    public (TorchSharp.torch.Tensor InputIds, TorchSharp.torch.Tensor AttentionMask) AsBatch(int padId)
    {
        int width = Rows.Max(r => r.Length);
        var ids = Rows.SelectMany(r => r.Concat(Enumerable.Repeat((long)padId, width - r.Length))).ToArray();
        var mask = Masks.SelectMany(m => m.Concat(Enumerable.Repeat(0L, width - m.Length))).ToArray();
        long[] shape = [Rows.Count, width];
        return (TorchSharp.torch.tensor(ids, shape), TorchSharp.torch.tensor(mask, shape));
    }

    public static JsonTokenInput Load(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("input_ids", out var idsElement))
                throw new InvalidDataException($"{path}: expected an object with \"input_ids\": [[token ids], …]; {Found(doc.RootElement)}.");
            var ids = ReadRows(idsElement, path, "input_ids");
            if (!doc.RootElement.TryGetProperty("attention_mask", out var maskElement))
                return new JsonTokenInput(ids, ids.Select(r => Enumerable.Repeat(1L, r.Length).ToArray()).ToList());
            var mask = ReadRows(maskElement, path, "attention_mask");
            if (mask.Count != ids.Count)
                throw new InvalidDataException($"{path}: attention_mask has {mask.Count} rows, input_ids has {ids.Count}.");
            for (int r = 0; r < ids.Count; r++)
            {
                if (mask[r].Length != ids[r].Length)
                    throw new InvalidDataException($"{path}: row {r} has {ids[r].Length} input_ids but {mask[r].Length} attention_mask values.");
                if (mask[r].Any(m => m is not (0 or 1)))
                    throw new InvalidDataException($"{path}: attention_mask row {r} holds a value other than 0 or 1.");
            }
            return new JsonTokenInput(ids, mask);
        }
    }

    /// <summary>What the file holds instead, and the one near miss worth naming: a reference fixture's inputs.json.</summary>
    static string Found(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return $"found a JSON {root.ValueKind.ToString().ToLowerInvariant()}";
        var keys = root.EnumerateObject().Select(p => $"\"{p.Name}\"").ToList();
        var found = keys.Count == 0 ? "found an empty object" : $"found {string.Join(", ", keys)}";
        return root.TryGetProperty("batch", out var batch) && batch.ValueKind == JsonValueKind.Object && batch.TryGetProperty("input_ids", out _)
            ? found + " (a reference fixture's expected/inputs.json: its \"batch\" object is such an input)"
            : found;
    }

    static List<long[]> ReadRows(JsonElement element, string path, string key)
    {
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() == 0)
            throw new InvalidDataException($"{path}: \"{key}\" must be a non-empty array of arrays of integers.");
        var rows = new List<long[]>();
        foreach (var row in element.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: \"{key}\" row {rows.Count} is not an array.");
            rows.Add(row.EnumerateArray().Select((v, i) => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var x) ? x
                : throw new InvalidDataException($"{path}: \"{key}\" row {rows.Count}, position {i} holds {v.GetRawText()}, not an integer.")).ToArray());
        }
        return rows;
    }
}
