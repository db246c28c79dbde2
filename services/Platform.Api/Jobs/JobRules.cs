using Platform.Api.Apps;
using Platform.Api.Http;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Jobs;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Jobs;

/// <summary>The rules for a job's fields: its name as an app's, its task as any task of its app (<see cref="TaskDefinition"/>).</summary>
internal static class JobRules
{
    /// <summary>A day: a run later than that is no longer the run that was asked for.</summary>
    public const int MaxStartingDeadlineSeconds = 86_400;

    public static void ValidateName(string? name, Dictionary<string, string[]> errors)
    {
        if (ResourceNames.Problem(name) is { } problem) errors["name"] = [problem];
    }

    /// <summary>Field errors of a job as it would be stored, checked against its app.</summary>
    public static void Validate(Job job, App app, Dictionary<string, string[]> errors)
    {
        foreach (var (field, messages) in TaskDefinition.Validate(JobTasks.Overrides(job) with { Name = null }, app))
            errors[field] = messages;
        if (job.StartingDeadlineSeconds is { } deadline && (deadline < 1 || deadline > MaxStartingDeadlineSeconds))
            errors["starting_deadline_seconds"] = [$"starting_deadline_seconds must be between 1 and {MaxStartingDeadlineSeconds} (it is {deadline})."];
    }

    /// <summary>Reads <c>Always</c>, <c>Forbid</c> or <c>Replace</c> (any case); null with an error otherwise.</summary>
    public static ConcurrencyPolicy? ParsePolicy(string? value, Dictionary<string, string[]> errors)
    {
        if (value is null) return null;
        foreach (var policy in Enum.GetValues<ConcurrencyPolicy>())
            if (string.Equals(policy.ToString(), value, StringComparison.OrdinalIgnoreCase)) return policy;
        errors["concurrency_policy"] = [$"'{value}' is not a concurrency policy: use Always, Forbid or Replace."];
        return null;
    }
}
