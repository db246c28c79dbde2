namespace Platform.TaskStore.Tasks;

/// <summary>
/// A pending task that no executor claimed in time was published again (its first RunTask may never have
/// left the Api). Duplicates are harmless: only one claim can succeed.
/// </summary>
public sealed record TaskRedispatched(Guid TaskId, DateTimeOffset RedispatchedAt);
