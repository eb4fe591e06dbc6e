using System.Globalization;
using OptNeurons.Bench;
using OptNeurons.Runtime;

// usage:
//   Throughput prepare --model DIR --ids FILE [--layers 12 --hidden 768 --heads 12 --ffn 3072 --storage float32
//                      --density 0.05 --sequences 8 --length 512 --seed 1]
//     writes DIR (a random OPT checkpoint, HF safetensors) and FILE ({"input_ids": [[…]]}) unless they exist.
//   Throughput measure --model DIR --ids FILE [--device cpu --dtypes float32,bfloat16 --batch 8 --threads N
//                      --repeats 5 --warmup 1 --baseline pytorch.json --baseline-note TEXT --label TEXT --project TOKENS
//                      --slow-seconds S]
//     measures capture throughput, statistics overhead and the GEMM peak, and prints them beside the PyTorch baseline
//     (each run's time to stderr as it ends; a variant with a run over S seconds is not run again).
//   Throughput verify --fixture DIR [--device cpu]
//     checks the device's numbers on a reference fixture, or on every one in DIR (tests/Fixtures), before anything is timed.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
try
{
    var options = Options.Parse(args.Skip(1));
    switch (args.FirstOrDefault())
    {
        case "prepare":
            var prepare = Prepare.Parse(options);
            options.RejectUnused();
            return Prepare.Run(prepare);
        case "verify":
            string fixture = options.Required("--fixture"), device = options.String("--device", "cpu");
            options.RejectUnused();
            return Verify.Run(fixture, device);
        case "measure":
            var measure = Measure.Parse(options);
            int threads = Env.Threads(options);
            options.RejectUnused();
            return Measure.Run(measure, threads);
        default:
            return Usage();
    }
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"Throughput: {e.Message}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Throughput prepare --model DIR --ids FILE [...] | Throughput measure --model DIR --ids FILE [...] | Throughput verify --fixture DIR [--device cpu] (see bench/Throughput/Program.cs)");
    return 2;
}

namespace OptNeurons.Bench
{
    /// <summary>"--name value" pairs; every name must be read once, so a misspelt option fails instead of being ignored.</summary>
    sealed class Options
    {
        readonly Dictionary<string, string> values = new(StringComparer.Ordinal);
        readonly HashSet<string> used = new(StringComparer.Ordinal);

        public static Options Parse(IEnumerable<string> args)
        {
            var o = new Options();
            using var e = args.GetEnumerator();
            while (e.MoveNext())
            {
                var name = e.Current;
                if (!name.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{name}'.");
                if (!e.MoveNext()) throw new ArgumentException($"option {name} needs a value.");
                o.values[name] = e.Current;
            }
            return o;
        }

        public string? Optional(string name) { used.Add(name); return values.GetValueOrDefault(name); }
        public string Required(string name) => Optional(name) ?? throw new ArgumentException($"option {name} is required.");
        public string String(string name, string fallback) => Optional(name) ?? fallback;

        public int Int(string name, int fallback) => Optional(name) is { } text
            ? int.TryParse(text, CultureInfo.InvariantCulture, out int v) && v >= 0 ? v : throw new ArgumentException($"{name} must be a non-negative integer, got '{text}'.")
            : fallback;

        public double Double(string name, double fallback) => Optional(name) is { } text
            ? double.TryParse(text, CultureInfo.InvariantCulture, out double v) ? v : throw new ArgumentException($"{name} must be a number, got '{text}'.")
            : fallback;

        public void RejectUnused()
        {
            var unknown = values.Keys.Where(k => !used.Contains(k)).ToList();
            if (unknown.Count > 0) throw new ArgumentException($"unknown option(s): {string.Join(", ", unknown)}.");
        }
    }

    static class Env
    {
        /// <summary>The torch thread count both sides use: the requested one, else every core.</summary>
        public static int Threads(Options o)
        {
            TorchRuntime.Initialize();
            int threads = o.Int("--threads", 0);
            TorchSharp.torch.set_num_threads(threads > 0 ? threads : Environment.ProcessorCount);
            return TorchSharp.torch.get_num_threads();
        }
    }
}
