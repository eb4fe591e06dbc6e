using System.Collections;
using System.IO.Compression;
using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Loading;

/// <summary>
/// One tensor of a zip-format torch.save file: the archive entry holding its storage, and the view (offset, shape,
/// strides, in elements) that the tensor takes of that storage.
/// </summary>
public sealed record PickledTensorEntry(string File, string Name, string StorageEntry, ScalarType Dtype, long StorageElements,
                                        long StorageOffset, long[] Shape, long[] Stride);

/// <summary>
/// Reads zip-format torch.save state dicts (<c>pytorch_model.bin</c>) one tensor at a time. PyBridge's
/// <c>PyTorchUnpickler.UnpickleStateDict</c> reads every tensor of a file at once and ignores storage offsets; here
/// only <c>data.pkl</c> is unpickled when the file is opened, and a tensor's bytes are read from its own archive entry
/// when it is asked for, so a 10 GB shard costs nothing until one of its tensors is needed.
/// </summary>
public static class TorchPickle
{
    internal const string LegacyAdvice = "re-save with torch.save(..., _use_new_zipfile_serialization=True) or convert to safetensors";

    /// <summary>Unpickles the file's data.pkl (no tensor data) and checks that every storage entry is present and long enough.</summary>
    public static IReadOnlyDictionary<string, PickledTensorEntry> ReadIndex(string path)
    {
        using var file = File.OpenRead(path);
        using var zip = OpenArchive(file, path);
        var pkl = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1).ToList();
        if (pkl.Count != 1)
            throw new InvalidDataException($"{path}: not a torch.save archive (expected exactly one <name>/data.pkl entry, found {pkl.Count}).");
        var root = pkl[0].FullName[..^"data.pkl".Length];
        if (zip.GetEntry(root + "byteorder") is { } order)
        {
            using var reader = new StreamReader(order.Open());
            var value = reader.ReadToEnd().Trim();
            if (value != "little")
                throw new NotSupportedException($"{path}: tensors are stored with byteorder '{value}'; only 'little' is supported.");
        }

        object loaded;
        try
        {
            using var unpickler = new TorchMetadataUnpickler(root);
            using var stream = pkl[0].Open();
            loaded = unpickler.load(stream);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Razorvine and PyBridge throw PickleException, InvalidCastException, NotImplementedException, ... on bad input.
            throw new InvalidDataException($"{path}: could not unpickle {pkl[0].FullName} (corrupt file, or not a state dict): {e.Message}", e);
        }
        if (loaded is not IDictionary dict)
            throw new InvalidDataException($"{path}: {pkl[0].FullName} holds a {loaded.GetType().Name}, not a state dict (name -> tensor).");

        var entries = new Dictionary<string, PickledTensorEntry>(StringComparer.Ordinal);
        foreach (DictionaryEntry item in dict)
        {
            var name = item.Key as string ?? throw new InvalidDataException($"{path}: state dict key {item.Key} is not a string.");
            if (item.Value is not TorchMetadataUnpickler.TensorRef t)
                throw new InvalidDataException($"{path}: state dict entry '{name}' is a {item.Value?.GetType().Name ?? "None"}, not a tensor.");
            var entry = new PickledTensorEntry(path, name, t.Storage.Entry, t.Storage.Dtype, t.Storage.Elements, t.Offset, t.Shape, t.Stride);
            CheckStorage(zip, entry);
            entries[name] = entry;
        }
        return entries;
    }

    /// <summary>Reads one tensor onto the CPU in its stored dtype, opening only its storage entry.</summary>
    public static Tensor Read(PickledTensorEntry entry)
    {
        using var scope = NewDisposeScope();
        var tensor = empty(entry.Shape, entry.Dtype);
        ReadInto(entry, tensor);
        return tensor.MoveToOuterDisposeScope();
    }

    /// <summary>Reads one tensor into <paramref name="destination"/>: a contiguous CPU tensor of its stored dtype and shape.</summary>
    internal static void ReadInto(PickledTensorEntry entry, Tensor destination)
    {
        if (entry.Shape.Aggregate(1L, (a, d) => a * d) == 0) return;
        using var file = File.OpenRead(entry.File);
        using var zip = OpenArchive(file, entry.File);
        var storage = zip.GetEntry(entry.StorageEntry)
            ?? throw new InvalidDataException($"{entry.File}: tensor '{entry.Name}' refers to archive entry {entry.StorageEntry}, which is missing.");
        using var data = storage.Open();
        if (IsContiguous(entry.Shape, entry.Stride))
        {
            // The usual case: the tensor is one contiguous run of its storage, so read just that run.
            Skip(data, entry.StorageOffset * ElementSize(entry.Dtype));
            TensorBytes.Read(destination, data);
            return;
        }
        // A strided view (e.g. a transposed tensor saved as is): read the storage up to the view's last element and
        // copy the view out of it.
        using var scope = NewDisposeScope();
        var all = empty(LastElement(entry) + 1, entry.Dtype);
        TensorBytes.Read(all, data);
        destination.copy_(all.as_strided(entry.Shape, entry.Stride, entry.StorageOffset));
    }

    static ZipArchive OpenArchive(FileStream file, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        int read = file.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (read >= 1 && magic[0] == 0x80)   // a pickle stream starts with PROTO (0x80): torch.save before PyTorch 1.6
            throw new NotSupportedException($"{path}: this file uses the legacy (non-zip) torch.save format; {LegacyAdvice}.");
        if (read < 4 || magic[0] != (byte)'P' || magic[1] != (byte)'K' || magic[2] != 3 || magic[3] != 4)
            throw new InvalidDataException($"{path}: not a torch.save file ({(read == 0 ? "it is empty" : $"it starts with bytes {Convert.ToHexString(magic[..read])}")}; " +
                                           "expected a zip archive, which starts with 504B0304 \"PK\\x03\\x04\").");
        file.Seek(0, SeekOrigin.Begin);
        try { return new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: corrupt zip archive ({e.Message}).", e); }
    }

    static void CheckStorage(ZipArchive zip, PickledTensorEntry e)
    {
        var storage = zip.GetEntry(e.StorageEntry)
            ?? throw new InvalidDataException($"{e.File}: tensor '{e.Name}' refers to archive entry {e.StorageEntry}, which is missing.");
        long needed = e.Shape.Contains(0) ? 0 : (LastElement(e) + 1) * ElementSize(e.Dtype);
        if (storage.Length < needed || e.StorageOffset < 0 || e.Stride.Any(s => s < 0) || e.Shape.Length != e.Stride.Length)
            throw new InvalidDataException($"{e.File}: tensor '{e.Name}' [{string.Join(", ", e.Shape)}] needs {needed} bytes of " +
                                           $"{e.StorageEntry}, which holds {storage.Length}; the file is truncated or corrupt.");
    }

    /// <summary>Storage index of the view's last element (for a non-empty view).</summary>
    static long LastElement(PickledTensorEntry e) => e.StorageOffset + e.Shape.Zip(e.Stride).Sum(p => (p.First - 1) * p.Second);

    static bool IsContiguous(long[] shape, long[] stride)
    {
        long expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] != 1 && stride[i] != expected) return false;   // a size-1 dimension's stride never matters
            expected *= shape[i];
        }
        return true;
    }

    static void Skip(Stream stream, long bytes)
    {
        if (bytes == 0) return;
        if (stream.CanSeek) { stream.Seek(bytes, SeekOrigin.Current); return; }
        var buffer = new byte[Math.Min(bytes, 1 << 20)];
        while (bytes > 0) bytes -= stream.ReadAtLeast(buffer.AsSpan(0, (int)Math.Min(bytes, buffer.Length)), 1);
    }

    internal static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        ScalarType.ComplexFloat64 => 16,
        _ => 1,
    };
}
