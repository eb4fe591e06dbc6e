using System.Globalization;
using System.Runtime.CompilerServices;

namespace OptNeurons.Tests.Support;

static class TestCulture
{
    /// <summary>
    /// Tests run with the invariant culture, as the command line, the notebook runner and the notebooks do, so that the
    /// numbers they read in messages and notebook text do not depend on the machine's locale. Writers of files are
    /// checked under <see cref="DecimalComma"/> as well.
    /// </summary>
#pragma warning disable CA2255 // a module initializer is exactly the tool for "before anything else in this assembly"
    [ModuleInitializer]
    internal static void Initialize() => CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
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
