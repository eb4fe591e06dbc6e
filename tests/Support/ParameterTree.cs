using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OptNeurons.Tests.Support;

/// <summary>
/// A module whose state dict has exactly the given names and shapes (nested submodules for every dotted part), for
/// loading tests that need a target without the real model. Parameters start as NaN so an entry the loader did not
/// fill is visible.
/// </summary>
public sealed class ParameterTree : nn.Module
{
    readonly Dictionary<string, ParameterTree> subtrees = new(StringComparer.Ordinal);

    ParameterTree(string name) : base(name) { }

    /// <summary>
    /// Builds the tree. Each <paramref name="ties"/> entry (name -> name) registers the second name's Parameter object
    /// under the first name too, as a tied lm_head shares embed_tokens' tensor.
    /// </summary>
    public static ParameterTree Build(IEnumerable<KeyValuePair<string, long[]>> shapes, ScalarType dtype = ScalarType.Float32,
                                      IReadOnlyDictionary<string, string>? ties = null)
    {
        var root = new ParameterTree("root");
        var created = new Dictionary<string, Parameter>(StringComparer.Ordinal);
        foreach (var (name, shape) in shapes)
            created[name] = root.Add(name, new Parameter(full(shape, double.NaN, dtype)));
        foreach (var (name, source) in ties ?? new Dictionary<string, string>())
            root.Add(name, created[source]);
        return root;
    }

    /// <summary>Builds a tree with the names and shapes of <paramref name="tensors"/> (e.g. synthetic weights).</summary>
    public static ParameterTree Like(IReadOnlyDictionary<string, Tensor> tensors, ScalarType dtype = ScalarType.Float32) =>
        Build(tensors.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.shape)), dtype);

    Parameter Add(string dottedName, Parameter parameter)
    {
        var parts = dottedName.Split('.');
        var node = this;
        foreach (var part in parts[..^1])
        {
            if (!node.subtrees.TryGetValue(part, out var child))
            {
                child = new ParameterTree(part);
                node.subtrees[part] = child;
                node.register_module(part, child);
            }
            node = child;
        }
        node.register_parameter(parts[^1], parameter);
        return parameter;
    }
}
