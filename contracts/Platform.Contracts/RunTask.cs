namespace Platform.Contracts;

/// <summary>
/// Command: run one task of a registered app. Published by the Api, by the Scheduler, and by outside
/// services in any language (see docs/wire-format.md for the exchange, headers and JSON body).
/// Executors compete for it; exactly one runs the task, and a duplicate with the same
/// <see cref="TaskId"/> is recognised and dropped.
/// </summary>
public sealed record RunTask
{
    /// <summary>
    /// The task's id. Optional for outside publishers: when absent, the id is derived from the message id
    /// (so a redelivery maps to the same task), or a new one is made when there is no message id either.
    /// Set it when you publish, so that your retries are idempotent.
    /// </summary>
    public Guid? TaskId { get; init; }

    /// <summary>Required. The name of a registered app whose command, environment and limits the task inherits.</summary>
    public string? App { get; init; }

    /// <summary>Optional. The shell command to run (at most 4096 characters); defaults to the app's command.</summary>
    public string? Command { get; init; }

    /// <summary>Optional. A display name for the task; a generated one (eight hex characters) when absent.</summary>
    public string? Name { get; init; }

    /// <summary>Optional. Memory limit in MiB; defaults to the app's.</summary>
    public int? MemoryInMb { get; init; }

    /// <summary>Optional. Scratch-disk limit in MiB; defaults to the app's.</summary>
    public int? DiskInMb { get; init; }

    /// <summary>Optional. Environment variables added to (and overriding) the app's for this task only.</summary>
    public IReadOnlyDictionary<string, string>? Env { get; init; }

    /// <summary>Optional. Maximum run time in seconds (1 to 604800); past it the task is terminated and fails. No limit when absent.</summary>
    public int? TimeoutSeconds { get; init; }

    /// <summary>Optional. Seconds between SIGTERM and SIGKILL when the task is terminated (0 to 3600); 10 when absent.</summary>
    public int? TerminationGracePeriodSeconds { get; init; }
}
