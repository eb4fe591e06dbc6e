using System.Runtime.CompilerServices;
using OptNeurons.Runtime;

namespace OptNeurons.Tests.Support;

static class TorchSetup
{
    /// <summary>
    /// TorchSharp's first use fixes its fate for the whole process: if any test touched torch before the native
    /// library was made loadable, every later test would fail. Preparing it when the test assembly loads removes the
    /// dependence on test order.
    /// </summary>
#pragma warning disable CA2255 // a module initializer is exactly the tool for "before anything else in this assembly"
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize();
#pragma warning restore CA2255
}
