using Marten;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.TaskStore.Access;
using Platform.TaskStore.Apps;

namespace Platform.Executor.Tasks.Running;

/// <summary>
/// Authorises a RunTask like an API call: the publisher is the broker-validated <c>user_id</c>; the
/// platform's own users are trusted, any other must map to a service account whose role in the app's
/// space allows running tasks.
/// </summary>
internal sealed class PublisherAuthorization(IDocumentStore store, IOptions<ExecutorOptions> options)
{
    /// <returns>Who the publisher is, as recorded with the events of a task it starts (<see cref="Actors"/>).</returns>
    /// <exception cref="RunTaskUnauthorized">The publisher may not run this task.</exception>
    public async Task<string> AuthorizeAsync(RunTask message, string? publisher, CancellationToken ct)
    {
        if (publisher is not null && options.Value.TrustedPublisherSet.Contains(publisher)) return Actors.TrustedPublisher(publisher);
        if (publisher is null) throw new RunTaskUnauthorized("the message has no user_id: anonymous publishers may not run tasks.");
        await using var session = store.QuerySession();
        var account = await session.Query<ServiceAccount>().FirstOrDefaultAsync(a => a.RabbitMqUser == publisher, ct)
                      ?? throw new RunTaskUnauthorized($"RabbitMQ user '{publisher}' is not mapped to a service account.");
        var app = message.App is { Length: > 0 } name ? await session.LoadAsync<App>(name, ct) : null;
        var grants = await Grants.LoadAsync(session, Subjects.ServiceAccount(account.Name), ct);
        // An unknown app is refused like a space without a role: the publisher learns nothing of other spaces.
        if (app is null || !grants.Allows(Permission.RunTasks, new Space { Name = app.Space }))
            throw new RunTaskUnauthorized($"service account '{account.Name}' (RabbitMQ user '{publisher}') may not run tasks of app '{message.App}'.");
        return Actors.OutsidePublisher(account.Name, publisher);
    }
}
