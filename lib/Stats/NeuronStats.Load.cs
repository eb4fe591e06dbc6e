using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using OptNeurons.Loading;
using static TorchSharp.torch;

namespace OptNeurons.Stats;

public sealed partial class NeuronStats
{
    /// <summary>
    /// Reads a folder written by <see cref="Save"/>. Refuses, naming the file and what is wrong: a missing folder or
    /// file (a missing manifest means an unfinished save), another format version, a tensors file from a different
    /// save than the manifest, and any tensor whose dtype or shape disagrees with the manifest.
    /// </summary>
    public static NeuronStats Load(string directory)
    {
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{directory}: no such statistics folder.");
        var manifestPath = Path.Combine(directory, ManifestFile);
        var tensorsPath = Path.Combine(directory, TensorsFile);
        if (!File.Exists(manifestPath))
            throw new FileNotFoundException($"{manifestPath} is missing: {directory} is not a statistics folder, or its save did not finish (the manifest is written last).", manifestPath);
        if (!File.Exists(tensorsPath))
            throw new FileNotFoundException($"{tensorsPath} is missing although {ManifestFile} exists; the folder is damaged.", tensorsPath);
        var json = File.ReadAllText(manifestPath);
        int? version;
        try { version = JsonNode.Parse(json)?["format_version"]?.GetValue<int>(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        { throw new InvalidDataException($"{manifestPath}: not a valid statistics manifest ({e.Message}).", e); }
        if (version != StatsManifest.CurrentFormatVersion)
            throw new InvalidDataException($"{manifestPath}: format version {version?.ToString() ?? "(none)"}; this library reads format version {StatsManifest.CurrentFormatVersion}.");
        var m = StatsManifest.FromJson(json, manifestPath);

        var (entries, metadata) = SafeTensors.ReadHeader(tensorsPath);
        if (!metadata.TryGetValue("manifest", out var embedded) || !StatsManifest.FromJson(embedded, tensorsPath).Equals(m))
            throw new InvalidDataException($"{tensorsPath} does not belong to {manifestPath} (they were written by different saves).");
        var r = new Reader(tensorsPath, entries);
        int L = m.Layers.Count, F = m.FfnDim, T = m.MaxLength, K = m.Options.SketchCapacity;
        var layers = r.Read<long>("layers", ScalarType.Int64, L);
        if (!layers.SequenceEqual(m.Layers.Select(l => (long)l)))
            throw new InvalidDataException($"{tensorsPath}: tensor 'layers' holds [{string.Join(", ", layers)}], the manifest [{string.Join(", ", m.Layers)}].");
        if (r.Read<long>("token_count", ScalarType.Int64)[0] != m.TokenCount || r.Read<long>("sequence_count", ScalarType.Int64)[0] != m.SequenceCount)
            throw new InvalidDataException($"{tensorsPath}: token_count or sequence_count disagrees with the manifest.");
        var active = r.Read<long>("active_counts", ScalarType.Int64, L, F);
        var positionTokens = r.Read<long>("position_token_counts", ScalarType.Int64, T);
        int[][]? positions = null;
        if (m.Options.TrackPositions)
        {
            var entry = r.Check("position_active_counts", ScalarType.Int32, L, T, F);
            positions = Enumerable.Range(0, L).Select(l => r.ReadSlice<int>(entry, (long)l * T * F, T * F)).ToArray();
        }
        var occurrences = new List<OccurrenceTable>();
        var sketches = new List<NgramSketch>();
        foreach (int n in m.Options.NgramOrders)
        {
            sketches.Add(new NgramSketch(L * F, K, r.Read<long>($"ngram{n}.keys", ScalarType.Int64, L, F, K),
                r.Read<int>($"ngram{n}.counts", ScalarType.Int32, L, F, K), r.Read<long>($"ngram{n}.error", ScalarType.Int64, L, F)));
            if (n == 1) occurrences.Add(Stats.OccurrenceTable.Unigrams(r.Read<long>("occurrences1.counts", ScalarType.Int64, m.VocabSize)));
            else
            {
                long count = r.Check($"occurrences{n}.keys", ScalarType.Int64, -1).Shape[0];
                occurrences.Add(Stats.OccurrenceTable.Sparse(n, r.Read<long>($"occurrences{n}.keys", ScalarType.Int64, count),
                    r.Read<long>($"occurrences{n}.counts", ScalarType.Int64, count)));
            }
        }
        CheckValues(tensorsPath, m, active, positions, positionTokens, occurrences, sketches);
        return new NeuronStats(m, active, positions, positionTokens, occurrences.ToArray(), sketches.ToArray());
    }

    /// <summary>
    /// Every count within what the token and sequence counts allow, so that a damaged or edited file is refused here
    /// rather than merged into, or resumed from, as numbers no capture could have produced.
    /// </summary>
    static void CheckValues(string path, StatsManifest m, long[] active, int[][]? positions, long[] positionTokens,
                            List<OccurrenceTable> occurrences, List<NgramSketch> sketches)
    {
        void Refuse(string tensor, long index, long value, string allowed) =>
            throw new InvalidDataException($"{path}: {tensor}[{index}] = {value}, outside {allowed}; the file is damaged or was edited.");
        void InRange(string tensor, ReadOnlySpan<long> values, long min, long max)
        {
            for (int i = 0; i < values.Length; i++)
                if (values[i] < min || values[i] > max) Refuse(tensor, i, values[i], $"[{min}, {max}]");
        }
        InRange("position_token_counts", positionTokens, 0, m.SequenceCount);
        if (positionTokens.Sum() != m.TokenCount)
            throw new InvalidDataException($"{path}: position_token_counts sum to {positionTokens.Sum()}, not token_count {m.TokenCount}; the file is damaged or was edited.");
        InRange("active_counts", active, 0, m.TokenCount);
        for (int l = 0; positions is not null && l < positions.Length; l++)
        {
            var layer = positions[l];
            for (int i = 0; i < layer.Length; i++)
                if (layer[i] < 0 || layer[i] > positionTokens[i / m.FfnDim])
                    Refuse($"position_active_counts[{l}]", i, layer[i], $"[0, {positionTokens[i / m.FfnDim]}], the tokens at its position");
        }
        for (int o = 0; o < sketches.Count; o++)
        {
            int n = m.Options.NgramOrders[o];
            var sketch = sketches[o];
            long keyLimit = 1L << (NgramKey.BitsPerToken * n);
            for (int i = 0; i < sketch.Keys.Length; i++)
            {
                long key = sketch.Keys[i];
                int count = sketch.Counts[i];
                if (count < 0 || count > m.TokenCount) Refuse($"ngram{n}.counts", i, count, $"[0, {m.TokenCount}]");
                if (count > 0 ? key < 0 || key >= keyLimit : key != -1) Refuse($"ngram{n}.keys", i, key, count > 0 ? $"[0, {keyLimit})" : "-1 (an unused slot)");
            }
            InRange($"ngram{n}.error", sketch.Errors, 0, m.TokenCount);
        }
        if (m.Options.NgramOrders.ToList().IndexOf(1) is >= 0 and var unigrams && occurrences[unigrams].Dense!.Sum() != m.TokenCount)
            throw new InvalidDataException($"{path}: occurrences1.counts sum to {occurrences[unigrams].Dense!.Sum()}, not token_count {m.TokenCount}; the file is damaged or was edited.");
    }

    /// <summary>Checks each tensor against the shape the manifest implies and reads its raw little-endian bytes.</summary>
    sealed class Reader(string path, IReadOnlyDictionary<string, SafeTensorEntry> entries)
    {
        /// <param name="shape">Expected shape; -1 accepts any size in that dimension.</param>
        public SafeTensorEntry Check(string name, ScalarType dtype, params long[] shape)
        {
            if (!entries.TryGetValue(name, out var e))
                throw new InvalidDataException($"{path}: tensor '{name}' is missing (expected {dtype} [{string.Join(", ", shape)}]).");
            bool shapeOk = e.Shape.Length == shape.Length && e.Shape.Zip(shape).All(p => p.Second < 0 || p.First == p.Second);
            if (e.Dtype != dtype || !shapeOk)
                throw new InvalidDataException($"{path}: tensor '{name}' is {e.Dtype} [{string.Join(", ", e.Shape)}]; the manifest implies {dtype} [{string.Join(", ", shape)}].");
            return e;
        }

        public TValue[] Read<TValue>(string name, ScalarType dtype, params long[] shape) where TValue : unmanaged
        {
            var e = Check(name, dtype, shape);
            return ReadSlice<TValue>(e, 0, checked((int)e.Shape.Aggregate(1L, (a, d) => a * d)));
        }

        public TValue[] ReadSlice<TValue>(SafeTensorEntry e, long elementOffset, int count) where TValue : unmanaged
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Safetensors data is little-endian; this machine is not.");
            var values = new TValue[count];
            using var file = File.OpenRead(e.File);
            file.Seek(e.Begin + elementOffset * Marshal.SizeOf<TValue>(), SeekOrigin.Begin);
            file.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            return values;
        }
    }
}
