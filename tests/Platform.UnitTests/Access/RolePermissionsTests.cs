using Platform.TaskStore.Access;

namespace Platform.UnitTests.Access;

public sealed class RolePermissionsTests
{
    private static readonly Space Closed = new() { Name = "s" };
    private static readonly Space Open = new() { Name = "s", AuditorsReadLogs = true };

    [Theory]
    [InlineData(Role.Developer, Permission.RunTasks, true)]
    [InlineData(Role.Developer, Permission.SeeCommands, true)]
    [InlineData(Role.Developer, Permission.SeeEnvironmentValues, true)]
    [InlineData(Role.Supporter, Permission.CancelTasks, true)]
    [InlineData(Role.Supporter, Permission.OperateJobs, true)]
    [InlineData(Role.Supporter, Permission.ReadLogs, true)]
    [InlineData(Role.Supporter, Permission.SeeEnvironmentNames, true)]
    [InlineData(Role.Supporter, Permission.RunTasks, false)]
    [InlineData(Role.Supporter, Permission.ManageApps, false)]
    [InlineData(Role.Supporter, Permission.ManageJobs, false)]
    [InlineData(Role.Supporter, Permission.SeeCommands, false)]
    [InlineData(Role.Supporter, Permission.SeeEnvironmentValues, false)]
    [InlineData(Role.Auditor, Permission.ReadApps, true)]
    [InlineData(Role.Auditor, Permission.ReadTasks, true)]
    [InlineData(Role.Auditor, Permission.ReadJobs, true)]
    [InlineData(Role.Auditor, Permission.ReadLogs, false)]
    [InlineData(Role.Auditor, Permission.CancelTasks, false)]
    [InlineData(Role.Auditor, Permission.OperateJobs, false)]
    [InlineData(Role.Auditor, Permission.SeeCommands, false)]
    [InlineData(Role.Auditor, Permission.SeeEnvironmentNames, false)]
    public void The_matrix_holds(Role role, Permission permission, bool allowed) =>
        Assert.Equal(allowed, RolePermissions.Allows(role, permission, Closed));

    [Fact]
    public void An_auditor_reads_logs_only_where_the_space_allows_it()
    {
        Assert.False(RolePermissions.Allows(Role.Auditor, Permission.ReadLogs, Closed));
        Assert.True(RolePermissions.Allows(Role.Auditor, Permission.ReadLogs, Open));
    }

    [Fact]
    public void Grants_keep_the_strongest_role_per_space_and_admin_everywhere()
    {
        var grants = Grants.From([
            new RoleBinding { Subject = "x", Role = Role.Auditor, Space = "a" },
            new RoleBinding { Subject = "x", Role = Role.Developer, Space = "a" },
            new RoleBinding { Subject = "x", Role = Role.Supporter, Space = "b" },
        ]);
        Assert.Equal(Role.Developer, grants.RoleIn("a"));
        Assert.Equal(Role.Supporter, grants.RoleIn("b"));
        Assert.Null(grants.RoleIn("c"));
        Assert.False(grants.IsAdmin);
        var admin = Grants.From([new RoleBinding { Subject = "y", Role = Role.Admin }]);
        Assert.Equal(Role.Admin, admin.RoleIn("anything"));
    }
}
