using TorchSharp;

namespace OptNeurons.Runtime;

/// <summary>
/// Scalars held for the life of the process, for the TorchSharp calls that run on every batch.
/// <para>
/// Where TorchSharp takes a Scalar and is given a number, and where it adds two tensors (its alpha = 1), it
/// makes a temporary Scalar that only its finalizer frees, and nothing keeps that temporary alive while the native call
/// it was passed to runs. A garbage collection started by another thread (a read-ahead worker, a notebook kernel,
/// parallel tests) can then free it before LibTorch has read it, and by then the memory may hold another value.
/// Measured with TorchSharp 0.107 on 2 cores: two threads running int64 <c>add_</c> with the implicit alpha while a
/// third made and collected garbage failed 84–90 times in 12 M calls (30 s) with "For integral input tensors,
/// argument alpha must not be a floating point number"; with a held alpha, 0 times in 16 M calls. A held Scalar is
/// never finalized, so it cannot be freed under a running call.
/// </para>
/// <para>
/// The statistics' accumulators, the model's residual additions and the optimizer step use these; a value known only
/// at run time is made with <c>using var s = value.ToScalar()</c>, which holds it until the end of its scope, or,
/// where a computation needs several, by a <see cref="ScalarScope"/>.
/// </para>
/// </summary>
public static class Scalars
{
    /// <summary>1: the alpha of <c>add</c> and <c>add_</c> (TorchSharp's <c>sub</c> of two tensors takes none).</summary>
    public static Scalar One { get; } = Held(1);
    public static Scalar Zero { get; } = Held(0);
    public static Scalar MinusOne { get; } = Held(-1);

    static Scalar Held(long value)
    {
        TorchRuntime.Initialize();   // ToScalar loads LibTorch: this repository's loading fixes come first
        return value.ToScalar();
    }
}

/// <summary>Integer Scalars made for one computation and held until it ends (see <see cref="Scalars"/>).</summary>
public sealed class ScalarScope : IDisposable
{
    readonly Dictionary<long, Scalar> made = [];

    /// <summary>The Scalar of <paramref name="value"/>, made on first use and held until this scope is disposed.</summary>
    public Scalar this[long value] => made.TryGetValue(value, out var held) ? held : made[value] = value.ToScalar();

    public void Dispose()
    {
        foreach (var held in made.Values) held.Dispose();
        made.Clear();
    }
}
