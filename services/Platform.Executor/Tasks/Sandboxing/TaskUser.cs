namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>The unprivileged host user every task runs as (Cloud Foundry's <c>vcap</c>, Kubernetes' <c>runAsUser</c>).</summary>
internal sealed record TaskUser(string Name, int Uid, int Gid)
{
    /// <summary>
    /// Resolves <paramref name="setting"/>: a user name from <c>/etc/passwd</c>, or <c>uid:gid</c> numbers.
    /// Root, or a user that does not exist, is refused with the reason.
    /// </summary>
    public static TaskUser Resolve(string setting, string passwdFile = "/etc/passwd")
    {
        TaskUser user;
        var numbers = setting.Split(':');
        if (numbers.Length == 2 && int.TryParse(numbers[0], out var uid) && int.TryParse(numbers[1], out var gid))
        {
            user = new TaskUser(setting, uid, gid);
        }
        else
        {
            var entry = File.ReadLines(passwdFile).Select(l => l.Split(':')).FirstOrDefault(p => p.Length >= 4 && p[0] == setting)
                        ?? throw new InvalidOperationException(
                            $"the task user '{setting}' does not exist (create it with 'useradd --system --no-create-home --shell /usr/sbin/nologin {setting}', as eng/setup.sh does, or set Executor:Sandbox:TaskUser to uid:gid)");
            user = new TaskUser(setting, int.Parse(entry[2]), int.Parse(entry[3]));
        }
        if (user.Uid <= 0 || user.Gid <= 0)
            throw new InvalidOperationException($"the task user '{setting}' is root or has root's group; tasks must run unprivileged");
        return user;
    }
}
