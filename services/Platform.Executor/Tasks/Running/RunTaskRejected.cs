namespace Platform.Executor.Tasks.Running;

/// <summary>
/// A RunTask that can never run as sent (unknown app, invalid field). Not retried: MassTransit moves the
/// message to the error queue with this message, naming the field, in its fault headers.
/// </summary>
public sealed class RunTaskRejected(IReadOnlyDictionary<string, string[]> errors)
    : Exception("RunTask rejected: " + string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")))
{
    public RunTaskRejected(string field, string message) : this(new Dictionary<string, string[]> { [field] = [message] }) { }

    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}
