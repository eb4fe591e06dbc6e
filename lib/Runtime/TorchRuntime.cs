using System.Globalization;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace OptNeurons.Runtime;

/// <summary>
/// The one place that prepares TorchSharp: makes its native library loadable (see <see cref="GlibcxxCompat"/>), lets
/// the C heap reuse freed tensor memory (<see cref="HeapReuse"/>), initialises it once, and chooses devices and compute
/// dtypes.
/// </summary>
public static class TorchRuntime
{
    static readonly Lock Gate = new();
    static bool initialised;

    /// <summary>Versions marked weak in this process, for the environment banner ("none" on most systems).</summary>
    public static IReadOnlyList<string> PatchedVersions { get; private set; } = [];

    /// <summary>How the C heap treats freed memory in this process (see <see cref="HeapReuse"/>), for benchmark reports.</summary>
    public static string HeapState => HeapReuse.State;

    /// <summary>Idempotent and thread-safe. Call before the first torch operation; every library entry point does.</summary>
    public static void Initialize()
    {
        lock (Gate)
        {
            if (initialised) return;
            if (OperatingSystem.IsLinux()) PatchedVersions = MakeNativeLibraryLoadable();
            HeapReuse.Apply();
            PreloadNativesBesideTorchSharp();
            try
            {
                InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or NotSupportedException)
            {
                throw new InvalidOperationException(
                    "TorchSharp's native library could not be loaded. An executable or test project must reference a " +
                    "LibTorch runtime package (this repository's projects do so through BundlesTorchRuntime; a notebook " +
                    "needs `#r \"nuget: TorchSharp-cpu, 0.107.0\"`). Underlying error: " + Innermost(e).Message, e);
            }
            initialised = true;
        }
    }

    /// <summary>"auto" picks CUDA when available, else CPU; otherwise "cpu", "cuda" or "cuda:N", checked against this machine.</summary>
    public static Device ResolveDevice(string? requested = "auto")
    {
        Initialize();
        if (string.IsNullOrEmpty(requested) || requested == "auto")
            return cuda.is_available() ? CUDA : CPU;
        var name = requested.ToLowerInvariant();   // torch.Device accepts any case, and Device.ToString() round-trips
        int index = -1;
        bool known = name is "cpu" or "cuda" ||
                     name.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(name.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out index);
        if (!known)
            throw new ArgumentException($"unknown device '{requested}'; expected auto, cpu, cuda or cuda:N (N = 0, 1, …).");
        if (name != "cpu" && !cuda.is_available())
            throw new ArgumentException($"Device '{requested}' was requested but CUDA is not available in this build or machine " +
                                        "(build with -p:TorchBackend=cuda on a machine with an NVIDIA driver).");
        if (index >= cuda.device_count())
            throw new ArgumentException($"Device '{requested}' was requested but this machine has {cuda.device_count()} CUDA device(s), numbered from 0.");
        return new Device(name);
    }

    /// <summary>
    /// Compute dtype: an explicit "float32" / "bfloat16" / "float16" wins; "auto" keeps the checkpoint's storage dtype on
    /// CUDA and uses float32 on CPU, where float16 and bfloat16 run about 5x slower and change the counts slightly.
    /// </summary>
    public static ScalarType ResolveDtype(string? requested, ScalarType storage, Device device)
    {
        if (string.IsNullOrEmpty(requested) || requested == "auto")
            return device.type == DeviceType.CUDA ? storage : ScalarType.Float32;
        return ParseDtype(requested, "--dtype");
    }

    /// <summary>Parses the dtype names HF uses in config.json ("float32", "float16", "bfloat16" and their short forms).</summary>
    public static ScalarType ParseDtype(string name, string where) => name switch
    {
        "float32" or "fp32" or "float" => ScalarType.Float32,
        "float16" or "fp16" or "half" => ScalarType.Float16,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        _ => throw new ArgumentException($"{where}: unknown dtype '{name}'; expected float32, float16 or bfloat16."),
    };

    public static string DtypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        ScalarType.BFloat16 => "bfloat16",
        _ => t.ToString(),
    };

    static List<string> MakeNativeLibraryLoadable()
    {
        // Load the libstdc++ the dynamic linker would give libLibTorchSharp.so, then read which file that was.
        if (!NativeLibrary.TryLoad("libstdc++.so.6", out _)) return [];
        var libstdcxx = LoadedLibrary("libstdc++.so.6");
        if (libstdcxx is null) return [];
        var systemVersions = GlibcxxCompat.DefinedVersions(libstdcxx);
        var patched = new List<string>();
        foreach (var candidate in NativeLibraryCandidates())
            patched.AddRange(GlibcxxCompat.PatchIfNeeded(candidate, systemVersions));
        return patched.Distinct().ToList();
    }

    /// <summary>Every libLibTorchSharp.so the runtime could load: the app's own probing folders and TorchSharp's package.</summary>
    internal static IEnumerable<string> NativeLibraryCandidates()
    {
        const string file = "libLibTorchSharp.so";
        var rid = RuntimeInformation.RuntimeIdentifier.StartsWith("linux-arm64", StringComparison.Ordinal) ? "linux-arm64" : "linux-x64";
        var app = AppContext.BaseDirectory;
        var folders = new List<string> { app, Path.Combine(app, "cpu"), Path.Combine(app, "cuda"), Path.Combine(app, "runtimes", rid, "native") };
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirs)
            folders.AddRange(searchDirs.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        var torchSharp = typeof(torch).Assembly.Location;   // typeof does not run torch's static constructor
        if (!string.IsNullOrEmpty(torchSharp))
        {
            var dir = Path.GetDirectoryName(torchSharp)!;
            folders.Add(dir);
            folders.Add(Path.Combine(dir, "runtimes", rid, "native"));                                   // an app folder another host loads from
            folders.Add(Path.GetFullPath(Path.Combine(dir, "..", "..", "runtimes", rid, "native")));   // NuGet package layout
        }
        return folders.Select(f => Path.GetFullPath(Path.Combine(f, file))).Distinct().Where(File.Exists);
    }

    /// <summary>
    /// A notebook kernel (VS Code's, dotnet-repl) loads TorchSharp.dll from our build folder by path, but its own host
    /// knows nothing of that folder's runtimes/&lt;rid&gt;/native, so TorchSharp's load by name finds no LibTorch. Loading
    /// the libraries there by full path first lets that load by name succeed (the loader matches what is already loaded).
    /// An app whose own deps.json lists the folder needs none of this, and nothing is loaded for it.
    /// </summary>
    static void PreloadNativesBesideTorchSharp()
    {
        var torchSharp = typeof(torch).Assembly.Location;
        if (string.IsNullOrEmpty(torchSharp)) return;
        var rid = $"{(OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "osx" : "win")}-{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";
        var native = Path.Combine(Path.GetDirectoryName(torchSharp)!, "runtimes", rid, "native");
        var known = (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (!Directory.Exists(native) || known.Any(k => Path.GetFullPath(k).TrimEnd(Path.DirectorySeparatorChar) == Path.GetFullPath(native))) return;
        foreach (var name in new[] { "torch_cpu", "torch_cuda", "LibTorchSharp" })
        {
            var file = Directory.EnumerateFiles(native, $"*{name}.*").FirstOrDefault(f => Path.GetFileNameWithoutExtension(f) is var n && (n == name || n == "lib" + name));
            if (file is not null) NativeLibrary.TryLoad(file, out _);   // a failure here surfaces, with TorchSharp's trace, just below
        }
    }

    internal static string? LoadedLibrary(string name)
    {
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/');
            if (slash >= 0 && Path.GetFileName(line[slash..]).StartsWith(name, StringComparison.Ordinal)) return line[slash..];   // libstdc++.so.6 -> libstdc++.so.6.0.30
        }
        return null;
    }

    static Exception Innermost(Exception e) { while (e.InnerException is not null) e = e.InnerException; return e; }

}
