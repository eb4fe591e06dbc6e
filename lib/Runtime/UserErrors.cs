using OptNeurons.Hub;

namespace OptNeurons.Runtime;

/// <summary>
/// The exceptions this library throws for what a user can fix (a bad argument or setting, a missing, unreadable or
/// malformed file, a model the hub cannot give), each with a message that names the culprit. Entry points report these
/// in one line; anything else is a bug and keeps its stack trace.
/// </summary>
public static class UserErrors
{
    public static bool IsUsersToFix(Exception e) =>
        e is ArgumentException or InvalidDataException or IOException or NotSupportedException or UnauthorizedAccessException
            or InvalidOperationException or HubException;
}
