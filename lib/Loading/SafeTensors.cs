using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Loading;

/// <summary>One tensor's place in a safetensors file: dtype, shape and absolute byte range.</summary>
public sealed record SafeTensorEntry(string File, string Name, ScalarType Dtype, long[] Shape, long Begin, long End);

/// <summary>
/// The safetensors format, read and written here so that every failure names the file and the key: a u64
/// little-endian header length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}}, then the raw bytes
/// (offsets count from the first byte after the header).
/// </summary>
public static class SafeTensors
{
    static readonly Dictionary<string, (ScalarType Type, int Size)> Dtypes = new()
    {
        ["F64"] = (ScalarType.Float64, 8), ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1), ["BOOL"] = (ScalarType.Bool, 1),
    };

    /// <summary>Reads and checks the header: every dtype known, every byte range inside the file and of the right size.</summary>
    public static (IReadOnlyDictionary<string, SafeTensorEntry> Entries, IReadOnlyDictionary<string, string> Metadata) ReadHeader(string path)
    {
        using var file = File.OpenRead(path);
        long length = file.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (file.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException($"{path}: truncated safetensors file ({length} bytes; the 8-byte header length is missing).");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(length - 8) || headerLength > 100_000_000)
            throw new InvalidDataException($"{path}: truncated safetensors header (it declares {headerLength} header bytes, the file has {length - 8} after the length).");
        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);
        JsonObject header;
        try { header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw new InvalidDataException($"{path}: empty safetensors header."); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        { throw new InvalidDataException($"{path}: the safetensors header is not a JSON object ({e.Message}).", e); }
        try { _ = header.Count; }   // the object's names are read (and checked for duplicates) on first use
        catch (ArgumentException e)
        { throw new InvalidDataException($"{path}: the safetensors header names a tensor twice ({e.Message}).", e); }

        long dataStart = 8 + (long)headerLength;
        var entries = new Dictionary<string, SafeTensorEntry>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject pairs || pairs.Any(p => p.Value is not JsonValue value || value.GetValueKind() != JsonValueKind.String))
                    throw new InvalidDataException($"{path}: __metadata__ must map names to strings, as safetensors defines it; it is {node?.ToJsonString() ?? "null"}.");
                foreach (var (k, v) in pairs) metadata[k] = v!.GetValue<string>();
                continue;
            }
            try
            {
                var dtype = node!["dtype"]!.GetValue<string>();
                if (!Dtypes.TryGetValue(dtype, out var type))
                    throw new InvalidDataException($"{path}: tensor '{name}' has unknown dtype '{dtype}'; expected one of {string.Join(", ", Dtypes.Keys)}.");
                var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                var offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                    throw new InvalidDataException($"{path}: tensor '{name}' has invalid data_offsets [{string.Join(", ", offsets)}].");
                long expected = shape.Aggregate(1L, (a, d) => a * d) * type.Size;
                if (offsets[1] - offsets[0] != expected)
                    throw new InvalidDataException($"{path}: tensor '{name}' of dtype {dtype} and shape [{string.Join(", ", shape)}] needs {expected} bytes, its data_offsets span {offsets[1] - offsets[0]}.");
                if (dataStart + offsets[1] > length)
                    throw new InvalidDataException($"{path}: tensor '{name}' ends at byte {dataStart + offsets[1]}, past the end of the file ({length} bytes); the file is truncated or corrupt.");
                entries[name] = new SafeTensorEntry(path, name, type.Type, shape, dataStart + offsets[0], dataStart + offsets[1]);
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException or JsonException)
            {
                throw new InvalidDataException($"{path}: tensor '{name}' has a malformed header entry (expected dtype, shape and data_offsets).", e);
            }
        }
        // Each tensor's bytes are its own: overlapping ranges would make two tensors read the same bytes.
        var ordered = entries.Values.Where(e => e.End > e.Begin).OrderBy(e => e.Begin).ToArray();
        for (int i = 1; i < ordered.Length; i++)
            if (ordered[i].Begin < ordered[i - 1].End)
                throw new InvalidDataException($"{path}: the bytes of tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}' overlap " +
                                               $"(data_offsets from {ordered[i - 1].Begin - dataStart} to {ordered[i - 1].End - dataStart} and from " +
                                               $"{ordered[i].Begin - dataStart}); the header is corrupt.");
        return (entries, metadata);
    }

    /// <summary>Reads one tensor (and only its bytes) onto the CPU in its stored dtype.</summary>
    public static Tensor Read(SafeTensorEntry entry)
    {
        using var scope = NewDisposeScope();
        var tensor = empty(entry.Shape, entry.Dtype);
        ReadInto(entry, tensor);
        return tensor.MoveToOuterDisposeScope();
    }

    /// <summary>Reads one tensor's bytes into <paramref name="destination"/>: a contiguous CPU tensor of its stored dtype and shape.</summary>
    internal static void ReadInto(SafeTensorEntry entry, Tensor destination)
    {
        using var file = File.OpenRead(entry.File);
        file.Seek(entry.Begin, SeekOrigin.Begin);
        TensorBytes.Read(destination, file);
    }

    /// <summary>Every tensor of a file, in its stored dtype, on the CPU.</summary>
    public static Dictionary<string, Tensor> ReadAll(string path) =>
        ReadHeader(path).Entries.Values.ToDictionary(e => e.Name, Read, StringComparer.Ordinal);

    /// <summary>
    /// Writes tensors (sorted by name, 8-byte aligned, metadata under __metadata__) atomically (<see cref="AtomicFile"/>),
    /// so a crash never leaves a half-written file.
    /// </summary>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var scope = NewDisposeScope();   // the host copies die with the call
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        var header = new JsonObject();
        if (metadata is { Count: > 0 }) header["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        long offset = 0;
        var cpu = new List<Tensor>();
        foreach (var name in names)
        {
            var t = tensors[name].detach().cpu().contiguous();
            cpu.Add(t);
            var code = Dtypes.FirstOrDefault(d => d.Value.Type == t.dtype).Key
                ?? throw new ArgumentException($"{path}: tensor '{name}' is {t.dtype}, which safetensors files here do not hold ({string.Join(", ", Dtypes.Keys)}).");
            long size = t.NumberOfElements * Dtypes[code].Size;
            header[name] = new JsonObject
            {
                ["dtype"] = code,
                ["shape"] = new JsonArray(t.shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + size),
            };
            offset += size;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;   // HF pads the header with spaces to a multiple of 8
        AtomicFile.Write(path, file =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)padded);
            file.Write(prefix);
            file.Write(json);
            for (int i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
            foreach (var t in cpu) TensorBytes.Write(t, file);
        });
    }
}
