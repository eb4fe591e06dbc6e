using System.Globalization;
using System.Reflection;
using System.Text.Json;
using OptNeurons.Model;
using OptNeurons.Runtime;
using static TorchSharp.torch;

namespace OptNeurons.Bench;

/// <summary>Prints OptNeurons' measurements beside the PyTorch baseline's (bench/pytorch_baseline.py's JSON).</summary>
static class Report
{
    /// <summary>
    /// One dtype's measurements; times are medians in seconds for all the input's tokens. Overheads: default capture time
    /// over forward time − 1 within each turn (the two run back to back, so a slow drift in the machine's speed cancels).
    /// CountingShares: within each default capture, the collector's own time over the rest of the pass
    /// (<see cref="Stats.NeuronStatsCollector.CountingTime"/>), interleaved layer by layer with the forward computation, so
    /// even a fast change of speed moves both parts alike; it leaves out what counting costs the forward computation
    /// indirectly (caches it evicts), which the turn-by-turn figure includes.
    /// </summary>
    public sealed record Row(string Dtype, double GemmPeak, string GemmDetail, double Forward, double CountsOnly, double NoNgrams, double Capture,
                             double StreamedCounts, double StreamedReadAhead, double FixedCost, double Density, double[] Overheads,
                             double[] CountingShares, StatsAlone Alone, IReadOnlyList<string> Notes);

    /// <summary>
    /// Seconds per layer update of each collector on activations kept on the device (no forward pass around them), and
    /// of the baseline's hook operation on the same tensor; Shape and ActiveFraction describe that tensor.
    /// </summary>
    public sealed record StatsAlone(string Shape, double ActiveFraction, double Counts, double NoNgrams, double Default, double HookOperation);

    /// <summary>"lowest … highest" in percent; "none" where a variant failed before any turn.</summary>
    static string Spread(double[] shares) => shares.Length == 0 ? "none" : $"{shares.Min() * 100:F1} … {shares.Max() * 100:F1}";

    /// <summary>The baseline's result for one dtype, or why there is none.</summary>
    sealed record Baseline(double? Seconds, double? Density, double? GemmPeak, string? Error);

    public static void Print(Measure.Settings s, OptConfig config, Device device, int threads, int sequences, int length, long tokens, int batchCount, IReadOnlyList<Row> rows)
    {
        var (info, baselines) = LoadBaseline(s);
        double work = LayerFlops(config, length) * config.NumHiddenLayers, head = 2.0 * config.WordEmbedProjDim * config.VocabSize;
        string torchSharp = typeof(TorchSharp.torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "?";
        var o = Console.Out;
        o.WriteLine();
        o.WriteLine($"== Capture throughput: OptNeurons vs PyTorch eager, {s.Label} on {device} ==");
        o.WriteLine($"model    {config.NumHiddenLayers} layers, d {config.HiddenSize}, {config.NumAttentionHeads} heads, ffn {config.FfnDim}, vocab {config.VocabSize}; " +
                    $"random weights, {config.StorageDtype} safetensors in {s.ModelDir} (both sides load this file)");
        o.WriteLine($"input    {sequences} sequences × {length} random token ids ({s.IdsPath}), batches of {s.Batch}: {tokens:N0} tokens per repeat; " +
                    $"median of {s.Repeats} after {s.Warmup} warm-up");
        o.WriteLine($"threads  torch: {threads} (OptNeurons), {info.Threads} (PyTorch); OptNeurons' n-gram summaries run on .NET's thread pool ({Environment.ProcessorCount} cores)");
        o.WriteLine($"versions TorchSharp {torchSharp} (LibTorch {LibTorchFolder()}); PyTorch {info.Version}, {info.Impl}");
        o.WriteLine($"cpu      {Cpu()}");
        o.WriteLine($"heap     OptNeurons: {TorchRuntime.HeapState}");
        o.WriteLine($"work     OptNeurons: {config.NumHiddenLayers} layers, no LM head, {work / 1e6:F1} MFLOP/token; " +
                    $"PyTorch: all layers + LM head, {(work + head) / 1e6:F1} MFLOP/token (2·matrix params + 4·T·d attention per layer, LM head 2·d·V)");
        if (info.Note is not null) o.WriteLine($"baseline {info.Note}");
        o.WriteLine();

        o.WriteLine($"{"dtype",-9} {"OptNeurons tok/s",17} {"PyTorch tok/s",14} {"ratio",7} {"GEMM peak GFLOP/s",18} {"OptNeurons % peak",18} {"PyTorch % peak",15}");
        foreach (var r in rows)
        {
            var b = baselines.GetValueOrDefault(r.Dtype);
            double ours = tokens / r.Capture;
            double? theirs = b?.Seconds is { } sec ? tokens / sec : null;
            o.WriteLine($"{r.Dtype,-9} {ours,17:N1} {Cell(theirs, "N1"),14} {Cell(theirs is { } t ? ours / t : null, "F2", "×"),7} {r.GemmPeak / 1e9,18:N1} " +
                        $"{ours * work / r.GemmPeak * 100,17:F0}% {Cell(theirs is { } p ? p * (work + head) / r.GemmPeak * 100 : null, "F0", "%"),15}");
        }
        o.WriteLine("(OptNeurons: default statistics (active counts, per-position counts, n-gram summaries K = 128), capture steady state;");
        o.WriteLine(" PyTorch: forward with a hook on every layer's ReLU counting active neurons; % of peak: each side's own FLOPs over the GEMM peak measured here)");
        o.WriteLine();

        bool cpu = device.type == TorchSharp.DeviceType.CPU;
        o.WriteLine("statistics overhead (OptNeurons, same batches): default capture time / forward-only time − 1 in each turn, median over turns (lowest … highest);");
        o.WriteLine($"in-pass: the collector's own time / the rest of the same capture passes, median over turns (lowest … highest){(cpu ? "" : "; n/a on a GPU, where kernels run asynchronously")}");
        o.WriteLine($"{"dtype",-9} {"forward only tok/s",19} {"active counts tok/s",20} {"+ per position tok/s",21} {"default stats tok/s",20} {"overhead",9} {"turns",15} {"in-pass",23} {"active fraction (ours / PyTorch)",33}");
        foreach (var r in rows)
        {
            var b = baselines.GetValueOrDefault(r.Dtype);
            o.WriteLine($"{r.Dtype,-9} {tokens / r.Forward,19:N1} {tokens / r.CountsOnly,20:N1} {tokens / r.NoNgrams,21:N1} {tokens / r.Capture,20:N1} {Measure.Median(r.Overheads) * 100,8:F1}% " +
                        $"{Spread(r.Overheads) + "%",15} {(cpu ? $"{Measure.Median(r.CountingShares) * 100:F1}% ({Spread(r.CountingShares)})" : "n/a"),23} " +
                        $"{$"{r.Density * 100:F2}% / {Cell(b?.Density * 100, "F2", "%")}",33}");
        }
        o.WriteLine("layer-streamed capture (each layer's weights read from the checkpoint once per run of all batches), active counts: " +
                    string.Join(", ", rows.Select(r => $"{r.Dtype} {tokens / r.StreamedCounts:N1} tok/s ({r.StreamedCounts / r.CountsOnly:F2}× the full model's time)")));
        o.WriteLine("  the same, each layer read during the one before (StreamingOptions.ReadAhead, the default on a GPU): " +
                    string.Join(", ", rows.Select(r => $"{r.Dtype} {tokens / r.StreamedReadAhead:N1} tok/s ({r.StreamedReadAhead / r.CountsOnly:F2}×)")));
        o.WriteLine("statistics alone (no forward pass around them): ms per layer update on one batch's first-layer activations kept on the device, " +
                    "median over the repeats; the forward pass's ms per layer and batch beside them:");
        foreach (var r in rows)
        {
            var a = r.Alone;
            double forward = r.Forward / batchCount / config.NumHiddenLayers * 1e3;
            o.WriteLine($"  {r.Dtype,-9} [{a.Shape}], {a.ActiveFraction * 100:F2}% active: active counts {a.Counts * 1e3:F3}, + per position {a.NoNgrams * 1e3:F3}, " +
                        $"default statistics {a.Default * 1e3:F3}; PyTorch's hook operation, (out > 0).sum over tokens, in TorchSharp {a.HookOperation * 1e3:F3}; forward pass {forward:F3}");
        }
        o.WriteLine($"fixed cost per capture run (collector allocation + final result copy, not in the rates above): " +
                    string.Join(", ", rows.Select(r => $"{r.Dtype} {r.FixedCost:F2} s")));
        o.WriteLine();
        o.WriteLine("GEMM peak (F.linear on this model's shapes, one layer's mix):");
        foreach (var r in rows)
            o.WriteLine($"  {r.Dtype,-9} TorchSharp {r.GemmDetail}; PyTorch's own BLAS {Cell(baselines.GetValueOrDefault(r.Dtype)?.GemmPeak / 1e9, "N1", " GFLOP/s")}");
        foreach (var (dtype, b) in baselines.Where(kv => kv.Value.Error is not null)) o.WriteLine($"PyTorch {dtype}: {b.Error}");
        foreach (var note in rows.SelectMany(r => r.Notes)) o.WriteLine($"timed fewer times: {note}");

        if (s.Projection is { } projection) Project(o, projection, config, length, tokens, rows, baselines);
    }

    /// <summary>
    /// Time for OPT-66b over N tokens, from this model's measured rates scaled by the per-token FLOPs ratio at the same
    /// sequence length: it assumes 66b reaches the FLOP rate measured here.
    /// </summary>
    static void Project(TextWriter o, string tokensText, OptConfig config, int length, long tokens, IReadOnlyList<Row> rows, Dictionary<string, Baseline> baselines)
    {
        double target = double.Parse(tokensText, CultureInfo.InvariantCulture);
        var opt66b = new OptConfig { NumHiddenLayers = 64, HiddenSize = 9216, FfnDim = 36864, NumAttentionHeads = 72 };
        double head = 2.0 * config.HiddenSize * config.VocabSize, head66 = 2.0 * opt66b.HiddenSize * opt66b.VocabSize;
        double ours = LayerFlops(config, length) * config.NumHiddenLayers, ours66 = LayerFlops(opt66b, length) * opt66b.NumHiddenLayers;
        o.WriteLine();
        o.WriteLine($"projection: OPT-66b (64 layers, d 9216, ffn 36864) over {target:N0} tokens of length {length}; per-token FLOPs " +
                    $"{ours66 / ours:F1}× this model's (layers), {(ours66 + head66) / (ours + head):F1}× with the LM head");
        o.WriteLine("  assumes 66b runs at the FLOP rate measured here (its larger GEMMs usually run at least as fast) and ignores that its");
        o.WriteLine("  132 GB of bf16 weights exceed one 80 GB GPU: a real run streams layers (--streamed), whose weight reads come on top");
        foreach (var r in rows)
        {
            double hours = target / (tokens / r.Capture) * (ours66 / ours) / 3600;
            string line = $"  {r.Dtype}: OptNeurons capture, all 64 layers {hours:F1} h (first 32 layers, --layers 32: {hours / 2:F1} h)";
            if (baselines.GetValueOrDefault(r.Dtype)?.Seconds is { } sec)
                line += $"; PyTorch eager + hook {target / (tokens / sec) * ((ours66 + head66) / (ours + head)) / 3600:F1} h";
            o.WriteLine(line);
        }
    }

    /// <summary>FLOPs per token of one layer: 2 per weight of the six matrices, and QKᵀ plus PV over all T keys (as computed).</summary>
    static double LayerFlops(OptConfig c, int length) =>
        2.0 * (4.0 * c.HiddenSize * c.HiddenSize + 2.0 * c.HiddenSize * c.FfnDim) + 4.0 * length * c.HiddenSize;

    /// <summary>Where the LibTorch this process runs on was loaded from: a build's own package, or an installed PyTorch.</summary>
    static string LibTorchFolder()
    {
        if (!File.Exists("/proc/self/maps")) return "(location unknown)";
        var line = File.ReadLines("/proc/self/maps").FirstOrDefault(l => l.EndsWith("/libtorch_cpu.so", StringComparison.Ordinal));
        return line is null ? "not found in /proc/self/maps" : Path.GetDirectoryName(line[line.IndexOf('/')..])!;
    }

    /// <summary>
    /// The CPU's model and the vector extensions that set its GEMM speed, without which figures from two machines do not
    /// compare: PyTorch 1.13's bfloat16 GEMM ran at 1.4 GFLOP/s on an AVX2-only AMD EPYC, and at 47 GFLOP/s or more on
    /// the machine of the README's first table (its bf16 baseline ran 178 tokens/s of 266 MFLOP each), while their
    /// float32 GEMM peaks differed by less than 2×.
    /// </summary>
    static string Cpu()
    {
        if (!File.Exists("/proc/cpuinfo")) return $"{Environment.ProcessorCount} cores (model unknown: no /proc/cpuinfo)";
        var lines = File.ReadLines("/proc/cpuinfo").ToList();
        string Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
        var flags = Field("flags").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        string[] relevant = ["avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16"];
        return $"{Field("model name")}, {Environment.ProcessorCount} cores; " +
               string.Join(", ", relevant.Select(f => flags.Contains(f) ? f : "no " + f));
    }

    static string Cell(double? value, string format, string suffix = "") =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) + suffix : "n/a";

    sealed record Info(string Version, string Impl, string Threads, string? Note);

    static (Info, Dictionary<string, Baseline>) LoadBaseline(Measure.Settings s)
    {
        var none = new Dictionary<string, Baseline>();
        if (s.Baseline is null || !File.Exists(s.Baseline))
            return (new Info("n/a", "not run", "n/a", s.BaselineNote ?? "PyTorch baseline not run"), none);
        using var doc = JsonDocument.Parse(File.ReadAllText(s.Baseline));
        var root = doc.RootElement;
        string Text(JsonElement e, string name) => e.TryGetProperty(name, out var v) ? v.ToString() : "?";
        double? Number(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        var rows = new Dictionary<string, Baseline>();
        if (root.TryGetProperty("rows", out var list))
            foreach (var row in list.EnumerateObject())
                rows[row.Name] = new Baseline(Number(row.Value, "median_s"), Number(row.Value, "density"), Number(row.Value, "gemm_peak_flops"),
                    row.Value.TryGetProperty("error", out var e) ? e.GetString() : null);
        var info = new Info(Text(root, "torch"), $"{Text(root, "impl")}; BLAS {Text(root, "blas")}", Text(root, "threads"), s.BaselineNote);
        return (info, rows);
    }
}
