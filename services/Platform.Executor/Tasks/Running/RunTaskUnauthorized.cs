namespace Platform.Executor.Tasks.Running;

/// <summary>
/// A RunTask whose publisher may not run tasks of the app (anonymous, unmapped, or without the role).
/// Not retried and not recorded in the app's history: MassTransit moves it to the error queue with this
/// reason, and <c>platform.messages.error_queued{error.type=RunTaskUnauthorized}</c> counts it.
/// </summary>
public sealed class RunTaskUnauthorized(string reason) : Exception("RunTask unauthorised: " + reason);
