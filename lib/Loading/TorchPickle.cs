using System.Collections;
using System.IO.Compression;
using Razorvine.Pickle;
using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Loading;

/// <summary>
/// One tensor of a torch.save file: where its storage is (<paramref name="StorageEntry"/>: the zip archive's entry
/// <c>&lt;root&gt;/data/&lt;key&gt;</c>, or in a legacy file the storage's key), and the view (offset, shape, strides,
/// in elements) that the tensor takes of that storage.
/// </summary>
public sealed record PickledTensorEntry(string File, string Name, string StorageEntry, ScalarType Dtype, long StorageElements,
                                        long StorageOffset, long[] Shape, long[] Stride)
{
    /// <summary>In a legacy (non-zip) file, the offset of the storage's first byte; -1 in a zip archive.</summary>
    public long LegacyDataOffset { get; init; } = -1;
}

/// <summary>
/// Reads torch.save state dicts (<c>pytorch_model.bin</c>) one tensor at a time, in both of PyTorch's formats: the zip
/// archive (PyTorch 1.6 and later) and the legacy stream of pickles before it. PyBridge's
/// <c>PyTorchUnpickler.UnpickleStateDict</c> reads every tensor of a file at once, ignores storage offsets and knows
/// only the zip format; here only the state dict's pickle is read when the file is opened, and a tensor's bytes are
/// read from its own storage when it is asked for, so a 10 GB shard costs nothing until one of its tensors is needed.
/// </summary>
public static class TorchPickle
{
    /// <summary>Unpickles the state dict (no tensor data) and checks that every storage is present and long enough.</summary>
    public static IReadOnlyDictionary<string, PickledTensorEntry> ReadIndex(string path)
    {
        using var file = File.OpenRead(path);
        return IsLegacy(file, path) ? ReadLegacyIndex(file, path) : ReadZipIndex(file, path);
    }

    static Dictionary<string, PickledTensorEntry> ReadZipIndex(FileStream file, string path)
    {
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
        using var stream = pkl[0].Open();
        var entries = StateDict(Unpickle(new TorchMetadataUnpickler(), stream, path, pkl[0].FullName), path, pkl[0].FullName,
                                t => new PickledTensorEntry(path, t.Name, root + "data/" + t.Ref.Storage.Key, t.Ref.Storage.Dtype,
                                                            t.Ref.Storage.Elements, t.Ref.Offset, t.Ref.Shape, t.Ref.Stride));
        foreach (var entry in entries.Values) CheckStorage(entry, ZipEntry(zip, entry).Length);
        return entries;
    }

    /// <summary>
    /// torch.save before PyTorch 1.6 (and with <c>_use_new_zipfile_serialization=False</c> since): five pickles in a
    /// row (a magic number, the format version 1001, system information, the state dict, and its storages' keys in the
    /// order written), then each of those storages as its element count (int64, little-endian) and its bytes.
    /// </summary>
    static Dictionary<string, PickledTensorEntry> ReadLegacyIndex(FileStream file, string path)
    {
        var magic = Unpickle(new Unpickler(), file, path, "the magic number");
        if (magic is not System.Numerics.BigInteger number || number != LegacyMagic)
            throw new InvalidDataException($"{path}: not a torch.save file (a pickle stream, but it does not start with torch.save's magic number).");
        var version = Unpickle(new Unpickler(), file, path, "the format version");
        if (!Equals(version, 1001))
            throw new NotSupportedException($"{path}: legacy torch.save format version {version}; only 1001 is supported.");
        if (Unpickle(new Unpickler(), file, path, "the system information") is IDictionary info && info["little_endian"] is false)
            throw new NotSupportedException($"{path}: tensors were saved on a big-endian machine; only little-endian files are supported.");
        var storages = new Dictionary<string, TorchMetadataUnpickler.StorageRef>(StringComparer.Ordinal);
        var entries = StateDict(Unpickle(new TorchMetadataUnpickler(), file, path, "the state dict"), path, "the state dict", t =>
        {
            storages[t.Ref.Storage.Key] = t.Ref.Storage;
            return new PickledTensorEntry(path, t.Name, t.Ref.Storage.Key, t.Ref.Storage.Dtype, t.Ref.Storage.Elements, t.Ref.Offset, t.Ref.Shape, t.Ref.Stride);
        });
        if (Unpickle(new Unpickler(), file, path, "the storage keys") is not IList keys)
            throw new InvalidDataException($"{path}: the pickle after the state dict is not the list of storage keys; the file is corrupt.");

        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        long position = file.Position;
        Span<byte> count = stackalloc byte[8];
        foreach (var item in keys)
        {
            var key = Convert.ToString(item, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            if (!storages.TryGetValue(key, out var storage))
                throw new InvalidDataException($"{path}: storage '{key}' is written but no tensor uses it, so its size is unknown; the file is corrupt.");
            file.Seek(position, SeekOrigin.Begin);
            if (file.ReadAtLeast(count, 8, throwOnEndOfStream: false) < 8 || BitConverter.ToInt64(count) != storage.Elements)
                throw new InvalidDataException($"{path}: storage '{key}' should start at byte {position} with its element count {storage.Elements}; " +
                                               "the file is truncated or corrupt.");
            offsets[key] = position + 8;
            position += 8 + storage.Elements * ElementSize(storage.Dtype);
        }
        if (position > file.Length)
            throw new InvalidDataException($"{path}: its storages need {position} bytes, but the file holds {file.Length}; the file is truncated.");
        return entries.Values.Select(entry =>
        {
            if (!offsets.TryGetValue(entry.StorageEntry, out long offset))
                throw new InvalidDataException($"{path}: tensor '{entry.Name}' uses storage '{entry.StorageEntry}', which the file does not list.");
            var located = entry with { LegacyDataOffset = offset };
            CheckStorage(located, entry.StorageElements * ElementSize(entry.Dtype));
            return located;
        }).ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    static readonly System.Numerics.BigInteger LegacyMagic = System.Numerics.BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);

    static object Unpickle(Unpickler unpickler, Stream stream, string path, string what)
    {
        try
        {
            using (unpickler) return unpickler.load(stream);
        }
        catch (Exception e) when (e is not (OutOfMemoryException or NotSupportedException))
        {
            // Razorvine and PyBridge throw PickleException, InvalidCastException, NotImplementedException, ... on bad input.
            throw new InvalidDataException($"{path}: could not unpickle {what} (corrupt file, or not a state dict): {e.Message}", e);
        }
    }

    /// <summary>The (name → tensor) dictionary a state dict is, each tensor described by <paramref name="describe"/>.</summary>
    static Dictionary<string, PickledTensorEntry> StateDict(object loaded, string path, string what,
                                                            Func<(string Name, TorchMetadataUnpickler.TensorRef Ref), PickledTensorEntry> describe)
    {
        if (loaded is not IDictionary dict)
            throw new InvalidDataException($"{path}: {what} holds a {loaded.GetType().Name}, not a state dict (name -> tensor).");
        var entries = new Dictionary<string, PickledTensorEntry>(StringComparer.Ordinal);
        foreach (DictionaryEntry item in dict)
        {
            var name = item.Key as string ?? throw new InvalidDataException($"{path}: state dict key {item.Key} is not a string.");
            if (item.Value is not TorchMetadataUnpickler.TensorRef t)
                throw new InvalidDataException($"{path}: state dict entry '{name}' is a {item.Value?.GetType().Name ?? "None"}, not a tensor.");
            entries[name] = describe((name, t));
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
        using var zip = entry.LegacyDataOffset < 0 ? OpenArchive(file, entry.File) : null;
        if (zip is null) file.Seek(entry.LegacyDataOffset, SeekOrigin.Begin);
        using var data = zip is null ? file : ZipEntry(zip, entry).Open();   // the storage's bytes from its first
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

    /// <summary>Whether the file is a legacy torch.save stream (true) or a zip archive (false); anything else is refused.</summary>
    static bool IsLegacy(FileStream file, string path)
    {
        Span<byte> magic = stackalloc byte[4];
        int read = file.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        file.Seek(0, SeekOrigin.Begin);
        if (read >= 1 && magic[0] == 0x80) return true;   // a pickle stream starts with PROTO (0x80)
        if (read < 4 || magic[0] != (byte)'P' || magic[1] != (byte)'K' || magic[2] != 3 || magic[3] != 4)
            throw new InvalidDataException($"{path}: not a torch.save file ({(read == 0 ? "it is empty" : $"it starts with bytes {Convert.ToHexString(magic[..read])}")}; " +
                                           "expected a zip archive, which starts with 504B0304 \"PK\\x03\\x04\", or a legacy torch.save pickle stream, which starts with 80).");
        return false;
    }

    static ZipArchive OpenArchive(FileStream file, string path)
    {
        try { return new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: corrupt zip archive ({e.Message}).", e); }
    }

    static ZipArchiveEntry ZipEntry(ZipArchive zip, PickledTensorEntry e) => zip.GetEntry(e.StorageEntry)
        ?? throw new InvalidDataException($"{e.File}: tensor '{e.Name}' refers to archive entry {e.StorageEntry}, which is missing.");

    /// <summary>Refuses a view that reaches past its storage's <paramref name="storageBytes"/>.</summary>
    static void CheckStorage(PickledTensorEntry e, long storageBytes)
    {
        long needed = e.Shape.Contains(0) ? 0 : (LastElement(e) + 1) * ElementSize(e.Dtype);
        if (storageBytes < needed || e.StorageOffset < 0 || e.Stride.Any(s => s < 0) || e.Shape.Length != e.Stride.Length)
            throw new InvalidDataException($"{e.File}: tensor '{e.Name}' [{string.Join(", ", e.Shape)}] needs {needed} bytes of " +
                                           $"{(e.LegacyDataOffset < 0 ? e.StorageEntry : $"storage '{e.StorageEntry}'")}, which holds {storageBytes}; the file is truncated or corrupt.");
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
