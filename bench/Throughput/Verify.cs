using System.Text.Json;
using OptNeurons.Capture;
using OptNeurons.Loading;
using OptNeurons.Runtime;
using OptNeurons.Stats;
using static TorchSharp.torch;

namespace OptNeurons.Bench;

/// <summary>
/// Before timing on a new device (or a LibTorch the tests never ran on), checks that it computes the right numbers: on
/// the reference fixture (tests/Fixtures/opt-tiny-pre-ln), in float32, the logits against the independent reference,
/// the per-neuron active counts against its stats.json, and the whole statistics file of a full-model and a
/// layer-streamed capture on the device against a CPU capture, byte for byte. Prints one line per check; exit code 1
/// if any fails.
/// </summary>
static class Verify
{
    const double LogitTolerance = 1e-4;   // as tests/Model/ReferenceTests

    public static int Run(string fixture, string deviceName)
    {
        var device = TorchRuntime.ResolveDevice(deviceName);
        var expected = Path.Combine(fixture, "expected");
        using var inputs = JsonDocument.Parse(File.ReadAllText(Path.Combine(expected, "inputs.json")));
        var batch = inputs.RootElement.GetProperty("batch");
        var sequences = Rows(inputs.RootElement.GetProperty("stats_sequences"));
        bool ok = true;
        void Report(bool pass, string what) { ok &= pass; Console.WriteLine($"verify: {(pass ? "ok  " : "FAIL")} {what}"); }

        using (var model = Pretrained.Load(fixture, device.ToString(), "float32"))
        using (NewDisposeScope())
        using (inference_mode())
        {
            var mask = ToTensor(Rows(batch.GetProperty("attention_mask")));
            var logits = model.call(ToTensor(Rows(batch.GetProperty("input_ids"))).to(device), mask.to(device)).cpu();
            var real = mask.to(ScalarType.Bool);
            double diff = (ExpectedLogits(expected)[real] - logits[real]).abs().max().item<float>();
            Report(diff <= LogitTolerance, $"logits on {device}: max |diff| {diff:G3} from the reference (tolerance {LogitTolerance})");
        }

        var settings = new CaptureSettings { BatchSize = 4, ChunkSize = 8 };
        NeuronStats Capture(ICaptureEngine engine) => NeuronCapture.Run(engine, sequences, settings, StatsSource.Unknown);
        NeuronStats onCpu, onDevice, streamed;
        using (var cpuModel = Pretrained.Load(fixture, "cpu", "float32")) onCpu = Capture(new FullModelEngine(cpuModel));
        using (var deviceModel = Pretrained.Load(fixture, device.ToString(), "float32")) onDevice = Capture(new FullModelEngine(deviceModel));
        streamed = Capture(LayerStreamedEngine.Open(fixture, device.ToString(), "float32", new StreamingOptions { Residual = ResidualPlace.Device }));

        using var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(expected, "stats.json")));
        int wrong = 0;
        foreach (var layer in stats.RootElement.GetProperty("layers").EnumerateArray())
        {
            var counts = layer.GetProperty("active_token_counts").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            wrong += counts.Zip(onDevice.ActiveCounts(layer.GetProperty("layer").GetInt32()).ToArray()).Count(p => p.First != p.Second);
        }
        Report(wrong == 0, $"active counts on {device}: {wrong} neurons differ from the reference's stats.json");
        var cpuBytes = Bytes(onCpu);
        foreach (var (name, result) in new[] { ("full model", onDevice), ("layer-streamed", streamed) })
        {
            bool same = cpuBytes.SequenceEqual(Bytes(result));
            Report(same, $"statistics file, {name} on {device} vs CPU: {(same ? "identical" : "different")} bytes");
        }
        return ok ? 0 : 1;
    }

    static Tensor ExpectedLogits(string expected)
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(expected, "manifest.json")));
        var shape = manifest.RootElement.GetProperty("files").GetProperty("logits.bin").GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var bytes = File.ReadAllBytes(Path.Combine(expected, "logits.bin"));
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return tensor(values).reshape(shape);
    }

    /// <summary>The two files a save writes, concatenated: what "byte-identical" compares.</summary>
    static byte[] Bytes(NeuronStats stats)
    {
        var dir = Directory.CreateTempSubdirectory("optneurons-verify-");
        try
        {
            stats.Save(dir.FullName);
            return [.. File.ReadAllBytes(Path.Combine(dir.FullName, NeuronStats.TensorsFile)), .. File.ReadAllBytes(Path.Combine(dir.FullName, NeuronStats.ManifestFile))];
        }
        finally { dir.Delete(recursive: true); }
    }

    static long[][] Rows(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToArray();

    static Tensor ToTensor(long[][] rows) => tensor(rows.SelectMany(r => r).ToArray()).reshape(rows.Length, rows[0].Length);
}
