using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace OptNeurons.Model;

/// <summary>
/// nn.Embedding's lookup, built without values (<see cref="Unfilled"/>): row i of <see cref="weight"/> for id i, under
/// the same state-dict key. TorchSharp's nn.Embedding is a native module that always draws its table in float32 on
/// the CPU before moving it (463 M values for 66b's embed_tokens), whatever device and dtype it is built for.
/// </summary>
public sealed class EmbeddingTable : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")] Parameter table;   // registered as "weight", nn.Embedding's state-dict name
    readonly long? paddingIdx;

    /// <param name="paddingIdx">As nn.Embedding's padding_idx: lookups of this id give its row no gradient.</param>
    public EmbeddingTable(long rows, long dimension, long? paddingIdx = null, Device? device = null, ScalarType? dtype = null) : base("Embedding")
    {
        if (paddingIdx is long pad && (pad < 0 || pad >= rows))
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), pad, $"padding_idx must be a row of the table (0..{rows - 1}).");
        table = Unfilled.Parameter([rows, dimension], device, dtype);
        this.paddingIdx = paddingIdx;
        RegisterComponents();
    }

    /// <summary>The table (rows, dimension), as nn.Embedding.weight.</summary>
    public Parameter weight
    {
        get => table;
        private set   // Module.to (a move to another dtype or device) replaces the table through this
        {
            table.Dispose();
            table = value;
            ConditionallyRegisterParameter("weight", table);
        }
    }

    /// <summary>(…, dimension): the row of every id (the same gather nn.Embedding runs, so the values are identical).</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        var flat = ids.reshape(-1);
        var rows = table.index_select(0, flat);
        // nn.Embedding(padding_idx) leaves the padding row out of the gradient; the values are the same either way.
        if (paddingIdx is long pad && table.requires_grad && is_grad_enabled())
        {
            using var padId = pad.ToScalar();   // held until the end of the call (see Scalars)
            rows = where(flat.eq(padId).unsqueeze(1), rows.detach(), rows);
        }
        return rows.view([.. ids.shape, table.shape[1]]).MoveToOuterDisposeScope();
    }
}
