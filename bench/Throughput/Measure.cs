using System.Diagnostics;
using System.Text.Json;
using OptNeurons.Capture;
using OptNeurons.Data;
using OptNeurons.Loading;
using OptNeurons.Model;
using OptNeurons.Runtime;
using OptNeurons.Stats;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Bench;

/// <summary>
/// OptNeurons' side of the throughput benchmark: for each dtype, the GEMM peak of the model's own matrix shapes, a
/// forward pass alone, and captures through <see cref="FullModelEngine"/> (the engine <see cref="NeuronCapture.Run"/>
/// drives) with and without statistics; then the table, beside the PyTorch baseline's JSON.
/// </summary>
static class Measure
{
    public sealed record Settings(string ModelDir, string IdsPath, string Device, IReadOnlyList<string> Dtypes, int Batch,
                                  int Repeats, int Warmup, string? Baseline, string? BaselineNote, string Label, string? Projection,
                                  double SlowSeconds);

    public static Settings Parse(Options o)
    {
        var s = new Settings(o.Required("--model"), o.Required("--ids"), o.String("--device", "cpu"),
            o.String("--dtypes", "float32,bfloat16").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Math.Max(1, o.Int("--batch", 8)), Math.Max(1, o.Int("--repeats", 5)), o.Int("--warmup", 1),
            o.Optional("--baseline"), o.Optional("--baseline-note") is { Length: > 0 } note ? note : null, o.String("--label", "OPT"), o.Optional("--project"),
            o.Double("--slow-seconds", 0));
        foreach (var d in s.Dtypes) TorchRuntime.ParseDtype(d, "--dtypes");
        return s;
    }

    public static int Run(Settings s, int threads)
    {
        var device = TorchRuntime.ResolveDevice(s.Device);
        var config = OptConfig.Load(Path.Combine(s.ModelDir, "config.json"));
        var sequences = JsonTokenInput.Load(s.IdsPath).Sequences;
        long tokens = sequences.Sum(q => (long)q.Length);
        int length = sequences.Max(q => q.Length);
        var batches = TokenBatches.Make(sequences, s.Batch, config.PadTokenId).ToList();
        var rows = new List<Report.Row>();
        try
        {
            foreach (var dtype in s.Dtypes)
            {
                Console.Error.WriteLine($"measure: {dtype} on {device} …");
                // A dtype that fails (out of memory, a kernel the device lacks) leaves the others' rows to print.
                try { rows.Add(MeasureDtype(s, config, device, dtype, batches, length)); }
                catch (Exception e) when (e is not OutOfMemoryException) { Console.Error.WriteLine($"measure: {dtype} failed, no row for it: {FirstLine(e)}"); }
            }
        }
        finally
        {
            foreach (var (ids, mask) in batches) { ids.Dispose(); mask.Dispose(); }
        }
        Report.Print(s, config, device, threads, sequences.Count, length, tokens, batches.Count, rows);
        return 0;
    }

    static Report.Row MeasureDtype(Settings s, OptConfig config, Device device, string dtype, List<(Tensor InputIds, Tensor AttentionMask)> batches, int length)
    {
        var scalar = TorchRuntime.ParseDtype(dtype, "--dtypes");
        var (peak, detail) = GemmPeak(config, (long)s.Batch * length, scalar, device, s.Repeats);
        using var model = Pretrained.Load(s.ModelDir, device.ToString(), dtype);
        int layers = config.NumHiddenLayers;
        int[] captured = Enumerable.Range(0, layers).ToArray();

        // The capture path itself: one collector per variant counts every repeat, as a long run's collector does (the
        // steady state). The default collector's allocation and final Result copy happen once per run: timed apart.
        var clock = Stopwatch.StartNew();
        using var full = new NeuronStatsCollector(new StatsOptions(), captured, config.FfnDim, length, config.VocabSize, device);
        double setup = clock.Elapsed.TotalSeconds;
        using var counts = new NeuronStatsCollector(new StatsOptions { TrackPositions = false, NgramOrders = [] }, captured,
                                                    config.FfnDim, length, config.VocabSize, device);
        using var noNgrams = new NeuronStatsCollector(new StatsOptions { NgramOrders = [] }, captured, config.FfnDim, length, config.VocabSize, device);
        using var streamedCounts = new NeuronStatsCollector(new StatsOptions { TrackPositions = false, NgramOrders = [] }, captured,
                                                            config.FfnDim, length, config.VocabSize, device);
        var engine = new FullModelEngine(model);
        // The path for models larger than the device: every layer's weights read from the checkpoint once per run (one
        // chunk of all batches), the residual kept on the device; timed with active counts only, to set beside the
        // full model's active counts. Both ways of reading: when a layer is needed, and ahead, during the layer before.
        var streamed = LayerStreamedEngine.Open(s.ModelDir, device.ToString(), dtype, new StreamingOptions { Residual = ResidualPlace.Device, ReadAhead = false });
        var streamedAhead = LayerStreamedEngine.Open(s.ModelDir, device.ToString(), dtype, new StreamingOptions { Residual = ResidualPlace.Device, ReadAhead = true });
        using var streamedAheadCounts = new NeuronStatsCollector(new StatsOptions { TrackPositions = false, NgramOrders = [] }, captured,
                                                                 config.FfnDim, length, config.VocabSize, device);
        // The same passes split in two: the collector's own time, over the rest (the forward computation around it).
        var countingShares = new List<double>();
        (string Name, Action Run)[] variants =
        [
            ("forward pass", () =>   // what the capture costs without statistics (no hooks, no collector)
            {
                using var _ = inference_mode();
                foreach (var (ids, mask) in batches)
                {
                    using var scope = NewDisposeScope();
                    model.Decoder.Run(ids.to(device), mask.to(device), layers);
                }
            }),
            ("active counts", () => engine.Run(counts, batches, layers)),
            ("+ per position", () => engine.Run(noNgrams, batches, layers)),   // everything but the n-gram summaries
            ("default statistics", () =>
            {
                var (before, clock) = (full.CountingTime, Stopwatch.StartNew());
                engine.Run(full, batches, layers);
                Synchronize(device);
                double counting = (full.CountingTime - before).TotalSeconds;
                countingShares.Add(counting / (clock.Elapsed.TotalSeconds - counting));
            }),
            ("streamed, active counts", () => streamed.Run(streamedCounts, batches, layers)),
            ("streamed, read ahead", () => streamedAhead.Run(streamedAheadCounts, batches, layers)),
        ];
        var (times, notes) = Time(s, device, dtype, variants);

        double fixedCost = double.NaN, density = double.NaN;
        if (times[3].Count > 0)   // the default statistics ran: their result, and the share of neurons active
        {
            clock.Restart();
            var stats = full.Result();
            fixedCost = setup + clock.Elapsed.TotalSeconds;
            long active = 0;
            foreach (int l in stats.Layers) foreach (long c in stats.ActiveCounts(l)) active += c;
            density = active / ((double)stats.TokenCount * layers * config.FfnDim);
        }
        // After the default statistics' result: the updates below count the same batch again and again.
        var alone = StatisticsAlone(s, model, device, batches[0], (counts, times[1].Count), (noNgrams, times[2].Count), (full, times[3].Count));
        return new Report.Row(dtype, peak, detail, Median(times[0]), Median(times[1]), Median(times[2]), Median(times[3]), Median(times[4]), Median(times[5]), fixedCost, density,
                              times[3].Zip(times[0], (capture, forward) => capture / forward - 1).ToArray(),
                              countingShares.TakeLast(times[3].Count).ToArray(), alone, notes);   // the timed runs' shares, not the warm-up's
    }

    /// <summary>
    /// The statistics without the forward pass around them: one batch's activations of the first layer, kept on the
    /// device, given to each collector as every captured layer's, and timed per layer update (median of the repeats),
    /// beside the baseline's hook operation on the same tensor. Set beside the forward pass's time per layer, it tells
    /// whether the statistics' overhead is their kernels' own time or what they do to the pass around them (the host
    /// waiting for the device, kernels the host launches too slowly to keep the device busy). Collectors whose capture
    /// variant failed (no timed run) are skipped: NaN.
    /// </summary>
    static Report.StatsAlone StatisticsAlone(Settings s, OptForCausalLM model, Device device, (Tensor InputIds, Tensor AttentionMask) batch,
                                             params (NeuronStatsCollector Collector, int Timed)[] collectors)
    {
        using var scope = NewDisposeScope();
        using var _ = inference_mode();
        Tensor? activations = null;
        using (new NeuronHooks(model, [0], (_, post) => activations = post.detach().clone().DetachFromDisposeScope()))
            model.Decoder.Run(batch.InputIds, batch.AttentionMask, 1);
        using var held = activations!;
        var layers = collectors[0].Collector.Layers;
        double PerLayer(string name, Action<int> update, Action? before = null)
        {
            var times = new List<double>();
            try
            {
                for (int r = 0; r < s.Warmup + s.Repeats; r++)
                {
                    before?.Invoke();
                    Synchronize(device);
                    var clock = Stopwatch.StartNew();
                    foreach (int l in layers) { using var inner = NewDisposeScope(); update(l); }
                    Synchronize(device);
                    if (r >= s.Warmup) times.Add(clock.Elapsed.TotalSeconds / layers.Count);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A diagnostic: its failure leaves the measurements above to print.
                Console.Error.WriteLine($"measure: {name} alone failed: {FirstLine(e)}");
                return double.NaN;
            }
            return Median(times);
        }
        var seconds = collectors.Select(c =>
        {
            if (c.Timed == 0) return double.NaN;
            CountedBatch? counted = null;
            return PerLayer(c.Collector.Options.Describe(), l => c.Collector.Update(l, held, counted!),
                            () => counted = c.Collector.CountBatch(batch.InputIds, batch.AttentionMask));
        }).ToArray();
        // What bench/pytorch_baseline.py's hook computes: (out > 0) summed over tokens into an int64 count per neuron.
        var hookCounts = zeros(layers.Count, held.shape[^1], ScalarType.Int64, device);
        double hook = PerLayer("the hook operation", l => hookCounts[l].add_(held.gt(0).reshape(-1, held.shape[^1]).sum(0)));
        double fraction;
        using (NewDisposeScope()) fraction = held.gt(0).to(ScalarType.Float64).mean().item<double>();
        return new Report.StatsAlone(string.Join(" × ", held.shape), fraction, seconds[0], seconds[1], seconds[2], hook);
    }

    /// <summary>
    /// The GEMM rate this machine reaches on the model's own matrix products (one layer: q, k, v, out projections
    /// (M×H·H×H), fc1 (M×H·H×F), fc2 (M×F·F×H), M = tokens per batch), as F.linear computes them: total FLOPs over
    /// total median time, so each shape weighs as much as in the model.
    /// </summary>
    static (double Peak, string Detail) GemmPeak(OptConfig config, long m, ScalarType dtype, Device device, int repeats)
    {
        long h = config.HiddenSize, f = config.FfnDim;
        (string Name, long In, long Out, int Count)[] shapes = [("proj", h, h, 4), ("fc1", h, f, 1), ("fc2", f, h, 1)];
        double flops = 0, seconds = 0;
        var parts = new List<string>();
        foreach (var (name, inputs, outputs, count) in shapes)
        {
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var x = randn(m, inputs, dtype: dtype, device: device);
            var w = randn(outputs, inputs, dtype: dtype, device: device);
            void Once() { using var inner = NewDisposeScope(); nn.functional.linear(x, w); }
            Once();
            Synchronize(device);
            // Enough calls per timing to last ~0.1 s, so a fast GPU product is not timed alone.
            var probe = Stopwatch.StartNew();
            Once();
            Synchronize(device);
            int calls = (int)Math.Clamp(0.1 / Math.Max(probe.Elapsed.TotalSeconds, 1e-6), 1, 1000);
            var times = new List<double>();
            for (int r = 0; r < Math.Max(3, repeats); r++)
            {
                var clock = Stopwatch.StartNew();
                for (int c = 0; c < calls; c++) Once();
                Synchronize(device);
                times.Add(clock.Elapsed.TotalSeconds / calls);
            }
            double t = Median(times), gemmFlops = 2.0 * m * inputs * outputs;
            flops += count * gemmFlops;
            seconds += count * t;
            parts.Add($"{name} {m}×{inputs}·{inputs}×{outputs} {gemmFlops / t / 1e9:F1}");
        }
        return (flops / seconds, string.Join(", ", parts) + " GFLOP/s");
    }

    /// <summary>
    /// Times each variant <see cref="Settings.Repeats"/> times after <see cref="Settings.Warmup"/> untimed runs, taking
    /// turns (round-robin): a machine's speed drifting during the run then moves every variant alike, and their
    /// ratios (the statistics' overhead) stay meaningful. Each run's time goes to stderr as it ends, so a run stopped
    /// by a time limit still leaves its figures. A run longer than <see cref="Settings.SlowSeconds"/> (when set) is that
    /// variant's last: its times so far, or this run alone if it was a warm-up, stand for it, and a note says so.
    /// </summary>
    static (List<double>[] Times, List<string> Notes) Time(Settings s, Device device, string dtype, (string Name, Action Run)[] variants)
    {
        var times = variants.Select(_ => new List<double>()).ToArray();
        var stopped = new bool[variants.Length];
        var notes = new List<string>();
        for (int i = 0; i < s.Warmup + s.Repeats; i++)
        {
            for (int v = 0; v < variants.Length; v++)
            {
                if (stopped[v]) continue;
                var clock = Stopwatch.StartNew();
                try
                {
                    variants[v].Run();
                    Synchronize(device);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // One variant failing (e.g. a path never run on this device) ends that variant, not the table.
                    stopped[v] = true;
                    notes.Add($"{dtype} {variants[v].Name}: failed, {times[v].Count} runs timed ({FirstLine(e)})");
                    Console.Error.WriteLine($"measure: {dtype} {variants[v].Name} failed: {e}");
                    continue;
                }
                double seconds = clock.Elapsed.TotalSeconds;
                bool warmup = i < s.Warmup;
                Console.Error.WriteLine($"measure: {dtype} {variants[v].Name}: {seconds:F2} s{(warmup ? " (warm-up)" : "")}");
                if (!warmup || (s.SlowSeconds > 0 && seconds > s.SlowSeconds && times[v].Count == 0)) times[v].Add(seconds);
                if (s.SlowSeconds > 0 && seconds > s.SlowSeconds && i + 1 < s.Warmup + s.Repeats)
                {
                    stopped[v] = true;
                    notes.Add($"{dtype} {variants[v].Name}: {times[v].Count} run{(times[v].Count == 1 ? "" : "s")} " +
                              $"({(warmup ? "a warm-up" : "a run")} took {seconds:F1} s, over --slow-seconds {s.SlowSeconds:G})");
                }
            }
        }
        return (times, notes);
    }

    static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();   // the current device: the model's, as ResolveDevice picks it
    }

    /// <summary>The median; NaN for no values (a variant that failed), which the report prints as such.</summary>
    internal static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToList();
        int n = sorted.Count;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    static string FirstLine(Exception e) => e.Message.Split('\n', 2)[0].Trim();
}
