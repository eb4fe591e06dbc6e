using System.Globalization;

namespace OptNeurons.Workbook;

/// <summary>The check failed: a number the notebook's prose states no longer holds.</summary>
public sealed class ExpectationException(string message) : Exception(message);

/// <summary>
/// Asserts for notebook cells, so that every number stated in the prose is checked when the notebook runs headless:
/// a cell ends with <c>Expect.Below(check.MaxAbsDiff, 1e-4, "max |logit diff|")</c>. Each returns a one-line "✓ …"
/// that the cell displays, and throws <see cref="ExpectationException"/> (failing the run) otherwise.
/// </summary>
public static class Expect
{
    public static string Below(double value, double bound, string what) =>
        Check(value < bound, $"{what} = {N(value)} < {N(bound)}");

    public static string Between(double value, double low, double high, string what) =>
        Check(value >= low && value <= high, $"{what} = {N(value)} in [{N(low)}, {N(high)}]");

    public static string Equal<T>(T expected, T actual, string what) =>
        Check(EqualityComparer<T>.Default.Equals(expected, actual), $"{what} = {actual} (expected {expected})");

    public static string SequenceEqual<T>(IEnumerable<T> expected, IEnumerable<T> actual, string what)
    {
        var (e, a) = (expected.ToList(), actual.ToList());
        return Check(e.SequenceEqual(a), $"{what} = [{string.Join(", ", a)}] (expected [{string.Join(", ", e)}])");
    }

    public static string True(bool condition, string what) => Check(condition, what);

    static string Check(bool ok, string statement) =>
        ok ? "✓ " + statement : throw new ExpectationException("Expectation failed: " + statement);

    static string N(double x) => x.ToString("G4", CultureInfo.InvariantCulture);
}
