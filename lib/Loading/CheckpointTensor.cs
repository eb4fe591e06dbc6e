using static TorchSharp.torch;

namespace OptNeurons.Loading;

/// <summary>
/// One tensor of a checkpoint, known from the file headers alone: its canonical name (HF's OPTForCausalLM state-dict
/// name), the name it is stored under, the file holding it, and its stored dtype and shape.
/// </summary>
public sealed class CheckpointTensor
{
    readonly Action<Tensor> readInto;

    internal CheckpointTensor(string name, string storedName, string file, ScalarType dtype, long[] shape, Action<Tensor> readInto)
    {
        Name = name;
        StoredName = storedName;
        File = file;
        Dtype = dtype;
        Shape = shape;
        this.readInto = readInto;
    }

    /// <summary>Canonical name: <c>model.decoder.…</c> or <c>lm_head.weight</c>.</summary>
    public string Name { get; }
    /// <summary>The key in the file, e.g. <c>decoder.layers.0.fc1.weight</c> in checkpoints saved from an OPTModel.</summary>
    public string StoredName { get; }
    /// <summary>Full path of the file (or shard) holding the tensor.</summary>
    public string File { get; }
    public ScalarType Dtype { get; }
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Reads the stored bytes onto the CPU in the stored dtype; failures name the file and the key.</summary>
    internal Tensor ReadStored()
    {
        using var scope = NewDisposeScope();
        var tensor = NewStored();
        ReadStoredInto(tensor);
        return tensor.MoveToOuterDisposeScope();
    }

    /// <summary>An empty CPU tensor of the stored dtype and shape, for <see cref="ReadStoredInto"/>.</summary>
    internal Tensor NewStored() => empty([.. Shape], Dtype);

    /// <summary>
    /// Reads the stored bytes into a tensor made by <see cref="NewStored"/>. Makes no tensor that outlives the call, so
    /// another thread can run it (<see cref="ReadAhead"/>) while the caller's thread owns the destination.
    /// </summary>
    internal void ReadStoredInto(Tensor destination)
    {
        try { readInto(destination); }
        catch (IOException e) when (!e.Message.Contains(File, StringComparison.Ordinal))
        {
            throw new IOException($"{File}: reading tensor '{StoredName}' failed: {e.Message}", e);
        }
    }

    internal string ShapeText => $"[{string.Join(", ", Shape)}]";

    public override string ToString() => $"{Name} {Dtype} {ShapeText} in {Path.GetFileName(File)}";
}
