using System.ComponentModel.DataAnnotations;

namespace Platform.TaskStore;

/// <summary>Where task history lives: one PostgreSQL database, one schema per deployment (or per test).</summary>
public sealed class TaskStoreOptions
{
    public const string Section = "TaskStore";

    [Required]
    public string ConnectionString { get; set; } =
        "Host=127.0.0.1;Port=5432;Database=platform;Username=postgres;Password=postgres";

    [Required, RegularExpression("^[a-z_][a-z0-9_]{0,62}$", ErrorMessage = "Schema must be a lower-case PostgreSQL identifier.")]
    public string Schema { get; set; } = "platform";
}
