using System.Globalization;
using System.Runtime.CompilerServices;
using OptNeurons.Workbook;

// Test classes run one at a time. TorchSharp frees the temporary Scalars it makes for numbers (and for the alpha of
// tensor + tensor) in their finalizers, and nothing keeps one alive during the native call it is passed to; a garbage
// collection that another thread starts during that call can free it while LibTorch reads it (OptNeurons.Runtime.Scalars
// measures this). The library holds its own Scalars on its per-batch paths, but test code is full of numbers passed to
// TorchSharp, and tests running side by side on other threads start such collections all the time: run in parallel,
// the suite failed on an alpha that LibTorch read as a floating-point number.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace OptNeurons.Tests.Support;

static class TestEnvironment
{
    /// <summary>
    /// Tests see the same machine wherever they run. Numbers print with the invariant culture, as the command line, the
    /// notebook runner and the notebooks do, so that what tests read in messages and notebook text does not depend on
    /// the locale (writers of files are checked under <see cref="DecimalComma"/> too). The notebook settings a user may
    /// have in the shell (OPTNEURONS_MODEL, …) are cleared, so the notebook tests run on the embedded defaults.
    /// </summary>
#pragma warning disable CA2255 // a module initializer is exactly the tool for "before anything else in this assembly"
    [ModuleInitializer]
    internal static void Initialize()
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        foreach (var name in NotebookSettings.Variables) Environment.SetEnvironmentVariable(name, null);
    }
#pragma warning restore CA2255

    /// <summary>A culture that writes 1.234,5 (as de-DE does), built without ICU's data so it exists on every machine.</summary>
    public static CultureInfo DecimalComma()
    {
        var culture = (CultureInfo)CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberDecimalSeparator = ",";
        culture.NumberFormat.NumberGroupSeparator = ".";
        return culture;
    }

    /// <summary>Makes <paramref name="culture"/> current until disposed.</summary>
    public static IDisposable Use(CultureInfo culture)
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = culture;
        return new Restore(() => CultureInfo.CurrentCulture = previous);
    }

    sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
