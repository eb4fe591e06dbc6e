using Parquet;
using Parquet.Schema;

namespace OptNeurons.Corpus;

/// <summary>
/// A Parquet file (e.g. a HuggingFace datasets shard), one document per row, text taken from a top-level string column
/// (default "text"). Row groups are read one at a time, in file order, so memory stays bounded by one row group;
/// null values are skipped.
/// </summary>
public sealed class ParquetCorpus(string path, string column = "text") : ICorpus
{
    public string Source => $"parquet:{path}[{column}]";

    public IEnumerable<Document> Documents()
    {
        var reader = Open();
        try
        {
            var field = TextField(reader.Schema);
            string name = Path.GetFileName(path);
            long row = 0;
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                var values = new string?[group.RowCount];
                group.ReadAsync(field, values.AsMemory()).AsTask().GetAwaiter().GetResult();
                foreach (var text in values)
                {
                    if (text is not null) yield return new Document($"{name}:{row}", text);
                    row++;
                }
            }
        }
        // The reader is only IAsyncDisposable, and an iterator cannot await.
        finally { reader.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    ParquetReader Open()
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such Parquet file.", path);
        try { return ParquetReader.CreateAsync(path).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException)
        {
            throw new InvalidDataException($"{path}: not a readable Parquet file ({e.Message}).", e);
        }
    }

    DataField TextField(ParquetSchema schema)
    {
        var field = schema.DataFields.FirstOrDefault(f => f.Path.ToString() == column && f.Name == column)
            ?? throw new InvalidDataException($"{path}: no top-level column \"{column}\"; columns are {string.Join(", ", schema.DataFields.Select(f => f.Path.ToString()))}.");
        // Parquet.Net 6 reports UTF-8 string columns as ReadOnlyMemory<char>; both read as strings.
        if (field.ClrType != typeof(string) && field.ClrType != typeof(ReadOnlyMemory<char>) || field.IsArray || field.MaxRepetitionLevel > 0)
            throw new InvalidDataException($"{path}: column \"{column}\" holds {(field.IsArray ? "arrays of " : "")}{field.ClrType.Name}, expected strings.");
        return field;
    }
}
