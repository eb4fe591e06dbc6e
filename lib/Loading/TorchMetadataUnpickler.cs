using System.Runtime.CompilerServices;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace OptNeurons.Loading;

/// <summary>
/// Unpickles a torch.save state dict (a zip archive's <c>data.pkl</c>, or the main pickle of a legacy file) into
/// descriptors instead of tensors: each storage becomes a <see cref="StorageRef"/> (key, dtype, length) and each
/// <c>_rebuild_tensor_v2</c> call a <see cref="TensorRef"/>. No tensor bytes are read.
/// </summary>
sealed class TorchMetadataUnpickler : Unpickler
{
    /// <summary>A storage by its key: the archive entry <c>&lt;root&gt;data/&lt;key&gt;</c>, or a legacy file's record of that key.</summary>
    internal sealed record StorageRef(string Key, ScalarType Dtype, long Elements);
    internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

    static TorchMetadataUnpickler()
    {
        // Razorvine keeps object constructors in one process-wide table, and PyBridge fills it in its static
        // constructor (collections.OrderedDict -> a Hashtable, _rebuild_tensor_v2 -> a tensor read). Run PyBridge's
        // first so it cannot later overwrite ours, then wrap its tensor constructors: ours handles our StorageRefs and
        // hands anything else to PyBridge's, so PyTorchUnpickler keeps working in the same process.
        RuntimeHelpers.RunClassConstructor(typeof(PyTorchUnpickler).TypeHandle);
        foreach (var name in new[] { "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" })
        {
            objectConstructors.TryGetValue(name, out var previous);
            objectConstructors[name] = new RebuildTensor(previous);
        }
    }

    protected override object persistentLoad(object pid)
    {
        // torch.save pickles each storage as ("storage", torch.<Type>Storage, key, location, numel), and the legacy
        // format adds a sixth item, view_metadata: None unless the storage is a view of another (PyTorch before 0.4).
        if (pid is not object[] { Length: 5 or 6 } t || t[0] is not "storage")
            throw new PickleException($"unknown persistent id {pid} (expected a torch storage tuple)");
        if (t.Length == 6 && t[5] is not null)
            throw new PickleException("a storage saved as a view of another storage (torch.save before PyTorch 0.4) is not supported");
        var typeName = t[1] switch { ClassDictConstructor c => c.name, string s => s, var other => other?.ToString() ?? "None" };
        return new StorageRef(Convert.ToString(t[2], System.Globalization.CultureInfo.InvariantCulture)!,
                              StorageDtype(typeName), Convert.ToInt64(t[4], System.Globalization.CultureInfo.InvariantCulture));
    }

    static ScalarType StorageDtype(string storage) => storage switch
    {
        "FloatStorage" => ScalarType.Float32,
        "HalfStorage" => ScalarType.Float16,
        "BFloat16Storage" => ScalarType.BFloat16,
        "DoubleStorage" => ScalarType.Float64,
        "LongStorage" => ScalarType.Int64,
        "IntStorage" => ScalarType.Int32,
        "ShortStorage" => ScalarType.Int16,
        "CharStorage" => ScalarType.Int8,
        "ByteStorage" => ScalarType.Byte,
        "BoolStorage" => ScalarType.Bool,
        _ => throw new PickleException($"unsupported storage type '{storage}'"),
    };

    /// <summary>torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, metadata]).</summary>
    sealed class RebuildTensor(IObjectConstructor? previous) : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args is not [StorageRef storage, var offset, object[] size, object[] stride, ..])
                return previous?.construct(args) ?? throw new PickleException("unexpected arguments to torch._utils._rebuild_tensor_v2");
            return new TensorRef(storage, ToLong(offset), size.Select(ToLong).ToArray(), stride.Select(ToLong).ToArray());
        }

        static long ToLong(object value) => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
