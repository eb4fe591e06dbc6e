using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Runtime;

/// <summary>
/// A CPU tensor's bytes to or from a stream, moved straight between the stream and the tensor's memory. TorchSharp's
/// ReadBytesFromStream and WriteBytesToStream go through a 1 KiB buffer: a million calls and extra copies per GB.
/// </summary>
public static class TensorBytes
{
    const long PieceBytes = 1L << 30;   // a Span spans at most 2 GiB

    /// <summary>Fills a contiguous CPU tensor from the stream; a stream that ends first throws EndOfStreamException.</summary>
    public static void Read(Tensor tensor, Stream stream) => Read(tensor, stream, PieceBytes);

    /// <summary>Writes a contiguous CPU tensor's bytes (its elements in order, native byte order) to the stream.</summary>
    public static void Write(Tensor tensor, Stream stream) => Write(tensor, stream, PieceBytes);

    internal static void Read(Tensor tensor, Stream stream, long pieceBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        foreach (var piece in Pieces(tensor, pieceBytes)) using (piece) stream.ReadExactly(piece.bytes);
    }

    internal static void Write(Tensor tensor, Stream stream, long pieceBytes)
    {
        ArgumentNullException.ThrowIfNull(stream);
        foreach (var piece in Pieces(tensor, pieceBytes)) using (piece) stream.Write(piece.bytes);
    }

    static IEnumerable<Tensor> Pieces(Tensor tensor, long pieceBytes)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.device_type != DeviceType.CPU || !tensor.is_contiguous())
            throw new ArgumentException($"expected a contiguous CPU tensor, got a {(tensor.is_contiguous() ? "" : "non-contiguous ")}tensor on {tensor.device}.", nameof(tensor));
        long elements = tensor.NumberOfElements, perPiece = Math.Max(1, pieceBytes / tensor.ElementSize);
        using var flat = tensor.view(-1);
        for (long start = 0; start < elements; start += perPiece)
            yield return flat.narrow(0, start, Math.Min(perPiece, elements - start));
    }
}
