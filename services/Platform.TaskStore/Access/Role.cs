namespace Platform.TaskStore.Access;

/// <summary>The roles of Cloud Foundry's space model that Platform has; see <see cref="RolePermissions"/> for what each may do.</summary>
public enum Role
{
    /// <summary>Everything, in every space; the only role that manages spaces, roles and service accounts.</summary>
    Admin,

    /// <summary>Everything on the space's apps, tasks and jobs; sees commands and environment values.</summary>
    Developer,

    /// <summary>Reads, cancels tasks, runs, suspends and resumes jobs; commands and environment values redacted.</summary>
    Supporter,

    /// <summary>Reads only; commands redacted, no environment, logs only where the space allows.</summary>
    Auditor,
}

/// <summary>What a caller may do to a space's objects. One check per endpoint; <see cref="RolePermissions"/> decides.</summary>
public enum Permission
{
    ReadApps,
    ManageApps,
    RunTasks,
    ReadTasks,
    CancelTasks,
    ReadLogs,
    ReadJobs,
    ManageJobs,
    OperateJobs,
    /// <summary>Commands (of apps, jobs and tasks) in full; without it they read <see cref="RolePermissions.Redacted"/>.</summary>
    SeeCommands,
    /// <summary>Environment values; without it values read <see cref="RolePermissions.Redacted"/>.</summary>
    SeeEnvironmentValues,
    /// <summary>Environment variable names (including secret ones); without it no environment is shown at all.</summary>
    SeeEnvironmentNames,
}

/// <summary>The role × permission matrix (README: "Who may do what"). A pure function, unit-tested.</summary>
public static class RolePermissions
{
    /// <summary>What a redacted command or value reads, as Cloud Foundry words it.</summary>
    public const string Redacted = "[PRIVATE DATA HIDDEN]";

    public static bool Allows(Role role, Permission permission, Space space) => role switch
    {
        Role.Admin or Role.Developer => true,
        Role.Supporter => permission is Permission.ReadApps or Permission.ReadTasks or Permission.CancelTasks or Permission.ReadLogs
            or Permission.ReadJobs or Permission.OperateJobs or Permission.SeeEnvironmentNames,
        Role.Auditor => permission is Permission.ReadApps or Permission.ReadTasks or Permission.ReadJobs
            || (permission is Permission.ReadLogs && space.AuditorsReadLogs),
        _ => false,
    };
}
