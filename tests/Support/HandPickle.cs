using System.IO.Compression;
using System.Text;

namespace OptNeurons.Tests.Support;

/// <summary>
/// Builds a zip-format torch.save file byte by byte, as PyTorch writes it (protocol-2 pickle in &lt;root&gt;/data.pkl,
/// storages in &lt;root&gt;/data/&lt;key&gt;), for cases no C# writer produces: views with a storage offset or strides,
/// several tensors sharing one storage, short storages, other byte orders.
/// </summary>
public static class HandPickle
{
    /// <summary>A tensor view of float storage "0": offset, shape and strides in elements.</summary>
    public sealed record View(string Name, int Offset, int[] Shape, int[] Stride);

    /// <summary>Writes a state dict whose tensors are all views of one float32 storage holding <paramref name="storage"/>.</summary>
    public static void Write(string path, float[] storage, IEnumerable<View> views, int storageElements = -1, string byteorder = "little")
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        Add(zip, "archive/data.pkl", Pickle(views, storageElements < 0 ? storage.Length : storageElements));
        Add(zip, "archive/byteorder", Encoding.ASCII.GetBytes(byteorder));
        Add(zip, "archive/data/0", storage.SelectMany(BitConverter.GetBytes).ToArray());
        Add(zip, "archive/version", "3\n"u8.ToArray());
    }

    /// <summary>Writes a zip with the usual entries but <paramref name="pickle"/> as data.pkl (e.g. garbage).</summary>
    public static void WriteRawPickle(string path, byte[] pickle)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        Add(zip, "archive/data.pkl", pickle);
    }

    static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();   // torch.save stores, never deflates
        stream.Write(bytes);
    }

    static byte[] Pickle(IEnumerable<View> views, int storageElements)
    {
        var p = new MemoryStream();
        void Op(params byte[] bytes) => p.Write(bytes);
        void Str(string s) { var b = Encoding.UTF8.GetBytes(s); Op(0x58); Op(BitConverter.GetBytes(b.Length)); Op(b); }   // BINUNICODE
        void Int(int v) { Op(0x4A); Op(BitConverter.GetBytes(v)); }                                                       // BININT
        void Global(string module, string name) { Op((byte)'c'); Op(Encoding.ASCII.GetBytes($"{module}\n{name}\n")); }  // GLOBAL
        void Tuple(IEnumerable<int> values) { Op((byte)'('); foreach (var v in values) Int(v); Op((byte)'t'); }          // MARK ... TUPLE

        Op(0x80, 2);                 // PROTO 2
        Global("collections", "OrderedDict");
        Op((byte)')', (byte)'R');    // OrderedDict()
        Op((byte)'(');               // MARK for SETITEMS
        foreach (var view in views)
        {
            Str(view.Name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op((byte)'(');
            Op((byte)'('); Str("storage"); Global("torch", "FloatStorage"); Str("0"); Str("cpu"); Int(storageElements); Op((byte)'t');
            Op((byte)'Q');           // BINPERSID: ("storage", FloatStorage, "0", "cpu", numel)
            Int(view.Offset);
            Tuple(view.Shape);
            Tuple(view.Stride);
            Op(0x89);                // NEWFALSE: requires_grad
            Global("collections", "OrderedDict");
            Op((byte)')', (byte)'R');    // backward hooks: OrderedDict()
            Op((byte)'t', (byte)'R');    // _rebuild_tensor_v2(*args)
        }
        Op((byte)'u', (byte)'.');    // SETITEMS, STOP
        return p.ToArray();
    }
}
