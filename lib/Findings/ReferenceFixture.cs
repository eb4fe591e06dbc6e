using System.Text.Json;

namespace OptNeurons.Findings;

/// <summary>
/// The <c>expected/</c> folder beside a reference checkpoint (tests/Fixtures/opt-tiny-*): inputs, and the logits,
/// neuron activations and neuron counts that an independent implementation computed from them, in float32 unless the
/// manifest's compute_dtype says otherwise (HuggingFace transformers for opt-tiny-pre-ln;
/// tests/Fixtures/make_variants.py for the other variants).
/// </summary>
public sealed class ReferenceFixture
{
    ReferenceFixture(string modelDirectory, string directory) => (ModelDirectory, Directory) = (modelDirectory, directory);

    /// <summary>The checkpoint folder (config.json and weights).</summary>
    public string ModelDirectory { get; }

    /// <summary>The expected/ folder.</summary>
    public string Directory { get; }

    /// <summary>The folder's name: opt-tiny-pre-ln, opt-tiny-post-ln, …</summary>
    public string Name => Path.GetFileName(Path.TrimEndingDirectorySeparator(ModelDirectory));

    /// <summary>The reference batch (unpadded, right- and left-padded rows): token ids and attention mask, [B][T].</summary>
    public (long[][] Ids, long[][] Mask) Batch { get; private init; }

    /// <summary>The sequences behind the expected neuron counts (each starts with BOS).</summary>
    public IReadOnlyList<long[]> StatsSequences { get; private init; } = [];

    /// <summary>Expected logits, row-major [B, T, V], and their shape.</summary>
    public float[] Logits { get; private init; } = [];
    public long[] LogitsShape { get; private init; } = [];

    /// <summary>Expected neuron activations (the input of fc2), row-major [L, B, T, ffn], and their shape.</summary>
    public float[] Activations { get; private init; } = [];
    public long[] ActivationsShape { get; private init; } = [];

    /// <summary>Per layer and neuron, the tokens of <see cref="StatsSequences"/> on which it fired (&gt; 0).</summary>
    public IReadOnlyList<long[]> ActiveCounts { get; private init; } = [];

    /// <summary>Per layer, how many neurons never fired (&gt; 0) on <see cref="StatsSequences"/>.</summary>
    public IReadOnlyList<int> DeadCounts { get; private init; } = [];

    /// <summary>Tokens counted in the expected statistics (BOS included).</summary>
    public long TotalTokens { get; private init; }

    /// <summary>The dtype the reference computed in (manifest "compute_dtype"; float32 where it has none).</summary>
    public string ComputeDtype { get; private init; } = "float32";

    /// <summary>
    /// Whether the reference computed in float32 or wider. Ours, in float32, must then agree to 1e-4 in every value and
    /// exactly in every count. A float16 or bfloat16 reference carries its own rounding, which no float32 computation
    /// reproduces: <see cref="Tolerance"/> and <see cref="CountsMovedAllowed"/> allow for it.
    /// </summary>
    public bool IsExact => ComputeDtype is "float32" or "float64";

    /// <summary>
    /// How far our float32 values may lie from the reference's <paramref name="expected"/> values. 1e-4 for a float32
    /// or float64 reference (float32's own rounding here is about 5e-6). For a half-precision reference, 16 unit
    /// roundoffs of its dtype (2^-8 for bfloat16, 2^-11 for float16) times the largest |expected| value (at least 1):
    /// bfloat16 references of the tiny variants lie up to 5 of those from float32 (tests/Fixtures/make_variants.py's
    /// forward pass in bfloat16), float16 ones up to 3 (the same pass rounding each op's output to float16, as a GPU's
    /// float16 kernels do).
    /// </summary>
    public double Tolerance(IReadOnlyList<float> expected)
    {
        if (IsExact) return 1e-4;
        double roundoff = ComputeDtype == "bfloat16" ? Math.Pow(2, -8) : Math.Pow(2, -11);
        return 16 * roundoff * Math.Max(1.0, expected.Max(v => Math.Abs(v)));
    }

    /// <summary>
    /// How many active-token counts may move in all (Σ over neurons of |ours − reference|): none for a float32 or float64
    /// reference; 1 % of the counted (token, neuron) pairs for a half-precision one, whose rounding flips the sign of
    /// pre-activations near 0 (0.17 % of them for opt-tiny-bf16-compute).
    /// </summary>
    public long CountsMovedAllowed => IsExact ? 0 : TotalTokens * ActiveCounts.Sum(c => (long)c.Length) / 100;

    /// <summary>The folders directly under <paramref name="root"/> that are reference fixtures, by name.</summary>
    public static IReadOnlyList<string> FoldersIn(string root) =>
        System.IO.Directory.Exists(root)
            ? System.IO.Directory.GetDirectories(root).Where(d => File.Exists(Path.Combine(d, "expected", "manifest.json"))).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>Reads <paramref name="modelDirectory"/>/expected.</summary>
    public static ReferenceFixture Open(string modelDirectory)
    {
        var dir = Path.Combine(modelDirectory, "expected");
        if (!File.Exists(Path.Combine(dir, "manifest.json")))
            throw new DirectoryNotFoundException($"'{modelDirectory}' has no expected/manifest.json: it is not a reference fixture.");
        using var inputs = Read(dir, "inputs.json");
        using var manifest = Read(dir, "manifest.json");
        using var stats = Read(dir, "stats.json");
        try
        {
            var batch = Get(inputs, "batch");
            var files = Get(manifest, "files");
            var compute = Optional(manifest.Document.RootElement, "compute_dtype") ?? "float32";
            if (compute is not ("float32" or "float64" or "float16" or "bfloat16"))
                throw new InvalidDataException($"{manifest.Path}: compute_dtype is \"{compute}\"; expected float32, float64, float16 or bfloat16.");
            // Layers in their own order: by "layer" where each entry names it, else as listed.
            var layers = Get(stats, "layers").EnumerateArray()
                .Select((l, i) => (Index: l.ValueKind == JsonValueKind.Object && l.TryGetProperty("layer", out var n) ? n.GetInt32() : i, Entry: l))
                .OrderBy(l => l.Index).Select(l => l.Entry).ToList();
            var logits = Values(dir, manifest, files, "logits.bin", ["batch", "seq", "vocab"]);
            var activations = Values(dir, manifest, files, "activations.bin", ["layer", "batch", "seq", "ffn"]);
            return new ReferenceFixture(Path.GetFullPath(modelDirectory), dir)
            {
                Batch = (Rows(Get(batch, "input_ids", inputs)), Rows(Get(batch, "attention_mask", inputs))),
                StatsSequences = Rows(Get(inputs, "stats_sequences")),
                Logits = logits.Values, LogitsShape = logits.Shape,
                Activations = activations.Values, ActivationsShape = activations.Shape,
                ActiveCounts = layers.Select(l => Get(l, "active_token_counts", stats).EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray(),
                DeadCounts = layers.Select(l => Get(l, "dead_count", stats).GetInt32()).ToArray(),
                TotalTokens = Get(stats, "total_tokens").GetInt64(),
                ComputeDtype = compute,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            // JsonElement's GetInt64, GetInt32 and EnumerateArray throw these on a value of another kind.
            throw new InvalidDataException($"{dir}: a value of its JSON files is not of the kind the reference-fixture format has ({e.Message}).", e);
        }
    }

    /// <summary>A parsed expected/ file and its path, for errors that name it.</summary>
    sealed class Json(string path) : IDisposable
    {
        public string Path { get; } = path;
        public JsonDocument Document { get; } = Parse(path);

        static JsonDocument Parse(string path)
        {
            try { return JsonDocument.Parse(File.ReadAllText(path)); }
            catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e); }
        }
        public void Dispose() => Document.Dispose();
    }

    static Json Read(string dir, string file) => new(Path.Combine(dir, file));

    static JsonElement Get(Json file, string key) => Get(file.Document.RootElement, key, file);

    static JsonElement Get(JsonElement parent, string key, Json file) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(key, out var value)
            ? value
            : throw new InvalidDataException($"{file.Path}: no \"{key}\" where the reference-fixture format has one.");

    /// <summary>
    /// A raw array file as the manifest describes it, in the canonical order <paramref name="dims"/>, row-major,
    /// widened to float32. The manifest's dtype (float32, float64, float16 or bfloat16), byte_order (little or big),
    /// layout (row-major or column-major) and dims (any order of <paramref name="dims"/>) are each optional and default
    /// to float32, little, row-major and the canonical order; the file's size is checked against its shape.
    /// </summary>
    static (float[] Values, long[] Shape) Values(string dir, Json manifest, JsonElement files, string file, string[] dims)
    {
        var path = Path.Combine(dir, file);
        var entry = Get(files, file, manifest);
        var shape = Get(entry, "shape", manifest).EnumerateArray().Select(e => e.GetInt64()).ToArray();
        string dtype = Optional(entry, "dtype") ?? "float32", order = Optional(entry, "byte_order") ?? "little";
        string layout = Optional(entry, "layout") ?? "row-major";
        var stored = entry.TryGetProperty("dims", out var named) && named.ValueKind == JsonValueKind.Array
            ? named.EnumerateArray().Select(d => d.GetString() ?? "").ToArray()
            : dims;
        int width = dtype switch
        {
            "float32" => 4, "float64" => 8, "float16" or "bfloat16" => 2,
            _ => throw new InvalidDataException($"{manifest.Path}: \"{file}\" has dtype \"{dtype}\"; expected float32, float64, float16 or bfloat16."),
        };
        if (order is not ("little" or "big"))
            throw new InvalidDataException($"{manifest.Path}: \"{file}\" has byte_order \"{order}\"; expected little or big.");
        if (layout is not ("row-major" or "column-major"))
            throw new InvalidDataException($"{manifest.Path}: \"{file}\" has layout \"{layout}\"; expected row-major or column-major.");
        if (stored.Length != shape.Length || !stored.Order().SequenceEqual(dims.Order()))
            throw new InvalidDataException($"{manifest.Path}: \"{file}\" has dims [{string.Join(", ", stored)}] for shape " +
                                           $"[{string.Join(", ", shape)}]; expected the dims {string.Join(", ", dims)}, in any order.");
        var bytes = File.ReadAllBytes(path);
        long expected = shape.Aggregate(1L, (a, b) => a * b) * width;
        if (bytes.Length != expected)
            throw new InvalidDataException($"{path}: {bytes.Length} bytes, but manifest.json's shape [{string.Join(", ", shape)}] in {dtype} needs {expected}.");
        if (order == "little" != BitConverter.IsLittleEndian)
            for (int i = 0; i < bytes.Length; i += width) Array.Reverse(bytes, i, width);
        var values = new float[bytes.Length / width];
        for (int i = 0; i < values.Length; i++)
            values[i] = dtype switch
            {
                "float32" => BitConverter.ToSingle(bytes, i * 4),
                "float64" => (float)BitConverter.ToDouble(bytes, i * 8),
                "float16" => (float)BitConverter.ToHalf(bytes, i * 2),
                _ => BitConverter.Int32BitsToSingle(BitConverter.ToUInt16(bytes, i * 2) << 16),   // bfloat16: float32's upper half
            };
        if (layout == "column-major")   // the same bytes are the row-major array of the reversed shape
            (shape, stored) = ([.. shape.Reverse()], [.. stored.Reverse()]);
        var axes = dims.Select(d => Array.IndexOf(stored, d)).ToArray();
        return (Permute(values, shape, axes), [.. axes.Select(a => shape[a])]);
    }

    /// <summary>The row-major array whose axis k is axis <paramref name="axes"/>[k] of <paramref name="values"/>.</summary>
    static float[] Permute(float[] values, long[] shape, int[] axes)
    {
        if (axes.Select((a, k) => a == k).All(same => same)) return values;
        var strides = new long[shape.Length];
        for (int a = shape.Length - 1, s = 1; a >= 0; s *= (int)shape[a], a--) strides[a] = s;
        var outShape = axes.Select(a => shape[a]).ToArray();
        var outStrides = axes.Select(a => strides[a]).ToArray();   // where one step along each output axis goes in the input
        var result = new float[values.Length];
        var index = new long[outShape.Length];
        long source = 0;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = values[source];
            for (int k = outShape.Length - 1; k >= 0; k--)   // odometer over the output's indices
            {
                source += outStrides[k];
                if (++index[k] < outShape[k]) break;
                source -= outStrides[k] * outShape[k];
                index[k] = 0;
            }
        }
        return result;
    }

    static string? Optional(JsonElement entry, string key) =>
        entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty(key, out var value)
            ? (value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText())
            : null;

    static long[][] Rows(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();
}
