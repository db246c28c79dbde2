using JasperFx.Events;

namespace Platform.TaskStore.Access;

/// <summary>
/// Who did something, as stored with what it wrote (the user name of a task's events, the actor of an audit
/// entry): the subject, and in brackets through which means, e.g. <c>service-account:ci (service_account)</c>.
/// One spelling for every writer, so that <c>GET /v3/tasks/{guid}/events</c> reads the same whoever wrote.
/// </summary>
public static class Actors
{
    public static string Of(string subject, string means) => $"{subject} ({means})";

    /// <summary>The Scheduler, for a task it fired (or a task it cancelled under Replace) for <paramref name="job"/>.</summary>
    public static string Scheduler(string job) => Of("service:scheduler", "schedule of job " + job);

    /// <summary>An outside publisher of RunTask: the service account its broker-validated RabbitMQ user maps to.</summary>
    public static string OutsidePublisher(string account, string rabbitMqUser) =>
        Of(Subjects.ServiceAccount(account), "outside_publisher, RabbitMQ user " + rabbitMqUser);

    /// <summary>A RunTask of a RabbitMQ user the Executor trusts as the platform's own (Executor:TrustedPublishers).</summary>
    public static string TrustedPublisher(string rabbitMqUser) => Of("rabbitmq-user:" + rabbitMqUser, "trusted_publisher");

    /// <summary>An operator running one of a service's commands on the host (e.g. the Api's <c>--reencrypt-secrets</c>).</summary>
    public static string Operator(string command) => Of("operator", "command " + command);

    /// <summary>
    /// <paramref name="data"/> to append with <paramref name="actor"/> as its own user name, where one session
    /// writes events of several actors (the Scheduler firing several jobs in one transaction); a session of
    /// one actor sets <c>LastModifiedBy</c> instead.
    /// </summary>
    public static IEvent On<T>(T data, string actor) where T : notnull => new Event<T>(data) { UserName = actor };
}
