namespace Platform.TaskStore.Access;

/// <summary>
/// A non-human caller (CI, another platform, an outside publisher). It authenticates with tokens Platform
/// issues (<see cref="AccessToken"/>); its roles are ordinary <see cref="RoleBinding"/>s of
/// <see cref="Subjects.ServiceAccount"/>. <see cref="RabbitMqUser"/> maps a broker login to it, so that a
/// RunTask published on RabbitMQ is authorised as this account.
/// </summary>
public sealed class ServiceAccount
{
    public string Name { get; set; } = "";
    public string? RabbitMqUser { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
}
