namespace Platform.Cli;

/// <summary>
/// What the process exit code means; documented in README.md. cf exits 1 for everything, which a script
/// cannot act on; these tell a failed task from a refused request from an unreachable API.
/// Codes from 64 on are the BSD sysexits values, so shells and supervisors already know them.
/// </summary>
internal static class ExitCodes
{
    public const int Success = 0;
    /// <summary>With <c>--wait</c>: the task ended FAILED.</summary>
    public const int TaskFailed = 1;
    /// <summary>With <c>--wait</c>: the task was cancelled.</summary>
    public const int TaskCancelled = 2;
    /// <summary>With <c>--wait</c>: <c>--timeout</c> was reached first; the task keeps running.</summary>
    public const int WaitTimedOut = 3;
    /// <summary>The API refused the request: not found, conflict, invalid field (4xx other than 401/403).</summary>
    public const int Refused = 4;
    /// <summary>A bad command line: unknown verb or flag, a size, duration or cron that does not parse.</summary>
    public const int Usage = 64;
    /// <summary>The API cannot be reached, or answers that it is unavailable (502, 503, 504).</summary>
    public const int Unavailable = 69;
    /// <summary>The API failed inside (500), or the CLI itself did (EX_SOFTWARE).</summary>
    public const int ApiError = 70;
    /// <summary>Not authorised: no token, or one without the right (401, 403).</summary>
    public const int NotAuthorised = 77;
    /// <summary>No API target: run <c>platform login --api URL</c> or set PLATFORM_API.</summary>
    public const int NotConfigured = 78;
    /// <summary>Interrupted (Ctrl-C), as shells report SIGINT.</summary>
    public const int Interrupted = 130;
}

/// <summary>A failure the user should see as one line, with the exit code that says what kind it was.</summary>
internal sealed class CliFailure(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
