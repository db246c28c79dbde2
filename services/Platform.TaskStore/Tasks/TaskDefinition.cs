using Platform.TaskStore.Apps;

namespace Platform.TaskStore.Tasks;

/// <summary>What a task request may override on top of its app. Null means "inherit the app's".</summary>
public sealed record TaskOverrides(
    string? Command,
    string? Name,
    int? MemoryInMb,
    int? DiskInMb,
    IReadOnlyDictionary<string, string>? Env,
    int? TimeoutSeconds = null,
    int? TerminationGracePeriodSeconds = null,
    int? MaxAttempts = null);

/// <summary>
/// Turns an app plus a request's overrides into the task that will run, or into field errors. One rule set
/// for every way a task arrives: the Api, the Scheduler, and outside publishers of <c>RunTask</c>.
/// Field names in errors are the wire names of the HTTP API.
/// </summary>
public static class TaskDefinition
{
    /// <summary>Cloud Foundry's limit on a task command.</summary>
    public const int MaxCommandLength = 4096;
    public const int MaxNameLength = 255;
    public const int MaxMemoryInMb = 64 * 1024;
    public const int MaxDiskInMb = 1024 * 1024;
    public const int MaxTimeoutSeconds = 7 * 24 * 3600;
    public const int MaxGracePeriodSeconds = 3600;
    public const int DefaultGracePeriodSeconds = 10;
    /// <summary>Attempts a task gets when its executor is lost; 1 (no retry) unless asked, as in Cloud Foundry.</summary>
    public const int MaxMaxAttempts = 10;

    public static Dictionary<string, string[]> Validate(TaskOverrides request, App app)
    {
        var errors = new Dictionary<string, string[]>();
        var command = request.Command ?? app.Command;
        if (string.IsNullOrWhiteSpace(command))
            errors["command"] = ["command is required: the request gives none and the app has no command."];
        else if (command.Length > MaxCommandLength)
            errors["command"] = [$"command must be at most {MaxCommandLength} characters (it has {command.Length})."];
        if (request.Name is { } name && (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength))
            errors["name"] = [$"name must be 1 to {MaxNameLength} characters."];
        if (LimitError("memory_in_mb", request.MemoryInMb, MaxMemoryInMb) is { } memory) errors["memory_in_mb"] = [memory];
        if (LimitError("disk_in_mb", request.DiskInMb, MaxDiskInMb) is { } disk) errors["disk_in_mb"] = [disk];
        if (request.TimeoutSeconds is < 1 or > MaxTimeoutSeconds)
            errors["timeout_seconds"] = [$"timeout_seconds must be between 1 and {MaxTimeoutSeconds} (it is {request.TimeoutSeconds})."];
        if (request.TerminationGracePeriodSeconds is < 0 or > MaxGracePeriodSeconds)
            errors["termination_grace_period_seconds"] = [$"termination_grace_period_seconds must be between 0 and {MaxGracePeriodSeconds} (it is {request.TerminationGracePeriodSeconds})."];
        if (request.MaxAttempts is < 1 or > MaxMaxAttempts)
            errors["max_attempts"] = [$"max_attempts must be between 1 and {MaxMaxAttempts} (it is {request.MaxAttempts})."];
        if (request.Env is not null && EnvironmentNames.Invalid(request.Env.Keys) is { } bad)
            errors["env"] = [bad];
        return errors;
    }

    /// <summary>An error for a size limit outside 1..max, or null when it is absent or fine.</summary>
    public static string? LimitError(string field, int? value, int max) =>
        value is { } v && (v < 1 || v > max) ? $"{field} must be between 1 and {max} (it is {v})." : null;

    /// <summary>The accepted event for a request that <see cref="Validate"/> passed.</summary>
    public static TaskAccepted Accept(
        Guid taskId, long sequenceId, TaskOverrides request, App app, DateTimeOffset at, TaskOrigin? origin = null) => new(
        taskId,
        app.Name,
        sequenceId,
        request.Name ?? GeneratedName(taskId),
        request.Command ?? app.Command,
        request.MemoryInMb ?? app.MemoryInMb,
        request.DiskInMb ?? app.DiskInMb,
        request.Env is null ? new Dictionary<string, string>() : new Dictionary<string, string>(request.Env),
        at,
        request.TimeoutSeconds,
        request.TerminationGracePeriodSeconds,
        request.MaxAttempts ?? app.TaskMaxAttempts,
        origin,
        app.Space);

    /// <summary>
    /// Like cf, a task without a name gets a short generated one: eight hex digits hashed from its id (task
    /// ids are time-ordered, so their own leading digits would repeat across tasks created close together).
    /// </summary>
    public static string GeneratedName(Guid taskId) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(taskId.ToByteArray()), 0, 4);
}

/// <summary>Rules for environment variable names, shared by apps and task overrides.</summary>
public static class EnvironmentNames
{
    /// <summary>A message naming the first invalid name, or null when all are valid POSIX-style names.</summary>
    public static string? Invalid(IEnumerable<string> names)
    {
        foreach (var name in names)
        {
            if (name.Length == 0 || char.IsDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                return $"'{name}' is not a valid environment variable name (letters, digits and _, not starting with a digit).";
        }
        return null;
    }
}
