using OptNeurons.Capture;
using OptNeurons.Findings;
using OptNeurons.Loading;
using OptNeurons.Runtime;
using OptNeurons.Stats;
using static TorchSharp.torch;

namespace OptNeurons.Bench;

/// <summary>
/// Before timing on a new device (or a LibTorch the tests never ran on), checks that it computes the right numbers: on
/// each reference fixture (a fixture folder, or every one in a folder such as tests/Fixtures), in float32, the logits
/// against the independent reference and the per-neuron active counts against its stats.json (within the fixture's
/// tolerance: 1e-4 and every count for a float32 reference, as the tests compare), and the whole statistics
/// file of a full-model and a layer-streamed capture on the device against a CPU capture, byte for byte. Prints one
/// line per check; exit code 1 if any fails.
/// </summary>
static class Verify
{
    public static int Run(string fixtureOrFolder, string deviceName)
    {
        var device = TorchRuntime.ResolveDevice(deviceName);
        var fixtures = File.Exists(Path.Combine(fixtureOrFolder, "expected", "manifest.json")) ? [fixtureOrFolder] : ReferenceFixture.FoldersIn(fixtureOrFolder);
        if (fixtures.Count == 0)
            throw new ArgumentException($"--fixture {fixtureOrFolder}: neither a reference fixture (expected/manifest.json) nor a folder of them.");
        return fixtures.Aggregate(true, (ok, fixture) => Check(fixture, device) & ok) ? 0 : 1;
    }

    static bool Check(string fixture, Device device)
    {
        var reference = ReferenceFixture.Open(fixture);
        var sequences = reference.StatsSequences;
        bool ok = true;
        void Report(bool pass, string what) { ok &= pass; Console.WriteLine($"verify: {(pass ? "ok  " : "FAIL")} {reference.Name}: {what}"); }

        using (var model = Pretrained.Load(fixture, device.ToString(), "float32"))
        {
            double diff = ReferenceCheck.Logits(model, reference).MaxAbsDiff, tolerance = reference.Tolerance(reference.Logits);
            Report(diff <= tolerance, $"logits on {device}: max |diff| {diff:G3} from the reference (tolerance {tolerance:G3})");
        }

        var settings = new CaptureSettings { BatchSize = 4, ChunkSize = 8 };
        NeuronStats Capture(ICaptureEngine engine) => NeuronCapture.Run(engine, sequences, settings, StatsSource.Unknown);
        NeuronStats onCpu, onDevice, streamed;
        using (var cpuModel = Pretrained.Load(fixture, "cpu", "float32")) onCpu = Capture(new FullModelEngine(cpuModel));
        using (var deviceModel = Pretrained.Load(fixture, device.ToString(), "float32")) onDevice = Capture(new FullModelEngine(deviceModel));
        streamed = Capture(LayerStreamedEngine.Open(fixture, device.ToString(), "float32", new StreamingOptions { Residual = ResidualPlace.Device }));

        int wrong = ReferenceCheck.CountsDiffering(onDevice, reference);
        long moved = ReferenceCheck.CountsMoved(onDevice, reference);
        Report(moved <= reference.CountsMovedAllowed, $"active counts on {device}: {wrong} neurons differ from the reference's stats.json, " +
                                                      $"by {moved} in all (allowed {reference.CountsMovedAllowed})");
        var cpuBytes = Bytes(onCpu);
        foreach (var (name, result) in new[] { ("full model", onDevice), ("layer-streamed", streamed) })
        {
            bool same = cpuBytes.SequenceEqual(Bytes(result));
            Report(same, $"statistics file, {name} on {device} vs CPU: {(same ? "identical" : "different")} bytes");
        }
        return ok;
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
}
