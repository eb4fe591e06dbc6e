using System.IO.Compression;
using System.Text;

namespace OptNeurons.Tests.Support;

/// <summary>
/// Builds a torch.save file byte by byte, as PyTorch writes it, for cases no C# writer produces: views with a storage
/// offset or strides, several tensors sharing one storage, short storages, other byte orders. The zip format holds a
/// protocol-2 pickle in &lt;root&gt;/data.pkl and the storages in &lt;root&gt;/data/&lt;key&gt;; the legacy format is
/// five pickles in a row (magic number, format version, system information, state dict, storage keys) followed by each
/// storage as its element count (int64) and its bytes.
/// </summary>
public static class HandPickle
{
    /// <summary>A tensor view of float storage "0": offset, shape and strides in elements.</summary>
    public sealed record View(string Name, int Offset, int[] Shape, int[] Stride);

    /// <summary>Writes a state dict whose tensors are all views of one float32 storage holding <paramref name="storage"/>.</summary>
    public static void Write(string path, float[] storage, IEnumerable<View> views, int storageElements = -1, string byteorder = "little",
                             bool legacy = false)
    {
        var data = storage.SelectMany(BitConverter.GetBytes).ToArray();
        var stateDict = Pickle(views, storageElements < 0 ? storage.Length : storageElements, legacy);
        if (legacy)
        {
            using var stream = File.Create(path);
            stream.Write(Convert.FromHexString("80028A0A6CFC9C46F9206AA850192E"));   // the magic number 0x1950a86a20f9469cfc6c
            stream.Write(Convert.FromHexString("80024DE9032E"));                     // the format version 1001
            stream.Write(SystemInfo(littleEndian: byteorder == "little"));
            stream.Write(stateDict);
            stream.Write(Convert.FromHexString("80025D28580100000030652E"));         // the storage keys: ["0"]
            stream.Write(BitConverter.GetBytes((long)(storageElements < 0 ? storage.Length : storageElements)));
            stream.Write(data);
            return;
        }
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        Add(zip, "archive/data.pkl", stateDict);
        Add(zip, "archive/byteorder", Encoding.ASCII.GetBytes(byteorder));
        Add(zip, "archive/data/0", data);
        Add(zip, "archive/version", "3\n"u8.ToArray());
    }

    /// <summary>{"protocol_version": 1001, "little_endian": …}, as torch.save's legacy format pickles it.</summary>
    static byte[] SystemInfo(bool littleEndian)
    {
        var p = new MemoryStream();
        p.Write([0x80, 2, (byte)'}', (byte)'(']);
        p.Write(Unicode("protocol_version")); p.Write([0x4D, 0xE9, 0x03]);
        p.Write(Unicode("little_endian")); p.WriteByte(littleEndian ? (byte)0x88 : (byte)0x89);
        p.Write([(byte)'u', (byte)'.']);
        return p.ToArray();
    }

    static byte[] Unicode(string s)   // BINUNICODE
    {
        var b = Encoding.UTF8.GetBytes(s);
        return [0x58, .. BitConverter.GetBytes(b.Length), .. b];
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

    static byte[] Pickle(IEnumerable<View> views, int storageElements, bool legacy)
    {
        var p = new MemoryStream();
        void Op(params byte[] bytes) => p.Write(bytes);
        void Str(string s) => Op(Unicode(s));
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
            Op((byte)'('); Str("storage"); Global("torch", "FloatStorage"); Str("0"); Str("cpu"); Int(storageElements);
            if (legacy) Op((byte)'N');   // view_metadata: None
            Op((byte)'t');
            Op((byte)'Q');           // BINPERSID: ("storage", FloatStorage, "0", "cpu", numel[, None])
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
