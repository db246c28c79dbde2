using Platform.TaskStore.Apps;

namespace Platform.Retention.Pruning;

/// <summary>The limits in force for one app: the configured ones, overridden field by field by the app's own.</summary>
public sealed record RetentionLimits(int MaxTasks, TimeSpan? MaxAge, long? MaxLogBytes)
{
    public static RetentionLimits Resolve(RetentionOptions configured, AppRetention? app)
    {
        // The app's value was validated when it was stored; a value that no longer parses falls back
        // to the configured one rather than stopping retention for the app.
        var maxAge = app?.MaxAge is { } appAge && RetentionDuration.TryParse(appAge, out var parsed) ? parsed
            : RetentionDuration.TryParse(configured.MaxAge, out var configuredAge) ? configuredAge
            : (TimeSpan?)null;
        return new RetentionLimits(
            app?.MaxTasks ?? configured.MaxTasksPerApp,
            maxAge,
            app?.MaxLogBytes ?? configured.MaxLogBytesPerTask);
    }
}
