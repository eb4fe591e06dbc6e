using OptNeurons.Loading;
using OptNeurons.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Stats;

public sealed partial class NeuronStats
{
    /// <summary>File of the arrays, readable with Python's <c>safetensors</c> (only I64 and I32 tensors).</summary>
    public const string TensorsFile = "stats.safetensors";
    /// <summary>Written last: a folder without it is an unfinished save.</summary>
    public const string ManifestFile = "manifest.json";
    const string FormatTag = "optneurons-stats";

    /// <summary>
    /// Writes <see cref="TensorsFile"/>, then <see cref="ManifestFile"/> (indented JSON), each to a temporary file renamed
    /// into place. The old manifest is deleted first, so an interrupted save leaves a folder that <see cref="Load"/>
    /// refuses rather than one that pairs a new tensors file with an old manifest. Tensors, with L = layers, F = ffn_dim,
    /// T = positions, K = sketch capacity, V = vocabulary, M = distinct n-grams:
    /// <c>layers</c> [L], <c>token_count</c> [], <c>sequence_count</c> [], <c>active_counts</c> [L, F],
    /// <c>position_token_counts</c> [T], <c>position_active_counts</c> [L, T, F] int32 (if tracked), per order n:
    /// <c>ngram{n}.keys</c> [L, F, K] (unused slots -1), <c>ngram{n}.counts</c> [L, F, K] int32 (unused 0),
    /// <c>ngram{n}.error</c> [L, F], <c>occurrences1.counts</c> [V], <c>occurrences{2,3}.keys</c>/<c>.counts</c> [M].
    /// All int64 unless marked int32. Needs host memory for one extra copy of the position counts.
    /// </summary>
    public void Save(string directory)
    {
        TorchRuntime.Initialize();
        Directory.CreateDirectory(directory);
        var manifestPath = Path.Combine(directory, ManifestFile);
        File.Delete(manifestPath);
        var json = Manifest.ToJson();
        int L = Layers.Count, F = FfnDim, T = MaxLength;
        using (NewDisposeScope())
        {
            var t = new Dictionary<string, Tensor>(StringComparer.Ordinal)
            {
                ["layers"] = tensor(Layers.Select(l => (long)l).ToArray()),
                ["token_count"] = tensor(TokenCount),
                ["sequence_count"] = tensor(SequenceCount),
                ["active_counts"] = View(activeCounts, L, F),
                ["position_token_counts"] = View(positionTokenCounts, T),
            };
            if (positionActiveCounts is not null)
                t["position_active_counts"] = stack(positionActiveCounts.Select(p => View(p, T, F)));
            foreach (int n in Options.NgramOrders)
            {
                var s = Sketch(n);
                t[$"ngram{n}.keys"] = View(s.Keys, L, F, s.Capacity);
                t[$"ngram{n}.counts"] = View(s.Counts, L, F, s.Capacity);
                t[$"ngram{n}.error"] = View(s.Errors, L, F);
                var occ = OccurrenceTable(n);
                if (occ.Dense is not null) t[$"occurrences{n}.counts"] = View(occ.Dense, occ.Dense.Length);
                else
                {
                    t[$"occurrences{n}.keys"] = View(occ.Keys, occ.Keys.Length);
                    t[$"occurrences{n}.counts"] = View(occ.Counts, occ.Counts.Length);
                }
            }
            var metadata = new Dictionary<string, string>
            {
                ["format"] = FormatTag,
                ["format_version"] = StatsManifest.CurrentFormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["manifest"] = json,
            };
            SafeTensors.Write(Path.Combine(directory, TensorsFile), t, metadata);
        }
        AtomicFile.WriteAllText(manifestPath, json + "\n");
    }

    /// <summary>A tensor over the array's own memory (no copy), shaped as given; empty arrays get a fresh empty tensor.</summary>
    static Tensor View(Array data, params long[] shape) =>
        data.Length == 0 ? zeros(shape, data is int[] ? ScalarType.Int32 : ScalarType.Int64) : from_array(data).view(shape);
}
