using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using OptNeurons.Hub;

namespace OptNeurons.Runtime;

/// <summary>
/// The exceptions this library throws for what a user can fix (a bad argument or setting, a missing, unreadable or
/// malformed file, a model the hub cannot give), each with a message that names the culprit. Entry points report these
/// in one line; anything else is a bug and keeps its stack trace.
/// </summary>
public static partial class UserErrors
{
    public static bool IsUsersToFix(Exception e) =>
        e is ArgumentException or InvalidDataException or IOException or NotSupportedException or UnauthorizedAccessException
            or InvalidOperationException and not ObjectDisposedException or HubException;   // a disposed object is a bug

    /// <summary>
    /// A failed allocation: .NET's own, or libtorch's as TorchSharp rethrows it ("can't allocate memory" from the CPU
    /// allocator, "out of memory" from CUDA's), whose message is the native error followed by its stack frames.
    /// </summary>
    public static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException || e is ExternalException && IsOutOfMemory(e.Message);

    /// <summary>Whether an error's text is an allocation failure's (where only the text is left, as of a notebook cell).</summary>
    public static bool IsOutOfMemory(string message) =>
        message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || message.Contains("can't allocate memory", StringComparison.Ordinal)
        || message.Contains(nameof(OutOfMemoryException), StringComparison.Ordinal);

    /// <summary>
    /// An allocation failure in one line: the native error without its stack frames, and without the source location and
    /// failed condition of a libtorch check ("[enforce fail at alloc_cpu.cpp:127] err == 0. ").
    /// </summary>
    public static string OutOfMemory(Exception e)
    {
        var first = EnforcePrefix().Replace(e.Message.Split('\n', 2)[0].Trim(), "");
        return first.Contains("out of memory", StringComparison.OrdinalIgnoreCase) ? first : $"out of memory: {first}";
    }

    [GeneratedRegex(@"^\[enforce fail at [^\]]*\]\s*(?:[^.]*(?:==|!=)[^.]*\.\s*)?")]
    private static partial Regex EnforcePrefix();
}
