using Platform.Executor.Tasks.Sandboxing;

namespace Platform.UnitTests.Sandboxing;

public sealed class TaskUserTests : IDisposable
{
    private readonly string _passwd = Path.GetTempFileName();

    public TaskUserTests() => File.WriteAllLines(_passwd, ["root:x:0:0:root:/root:/bin/bash", "platform-task:x:999:995::/nonexistent:/usr/sbin/nologin", "rootgroup:x:1001:0::/:/bin/sh"]);

    public void Dispose() => File.Delete(_passwd);

    [Fact]
    public void A_name_resolves_to_its_uid_and_gid() => Assert.Equal(new TaskUser("platform-task", 999, 995), TaskUser.Resolve("platform-task", _passwd));

    [Fact]
    public void Numbers_need_no_passwd_entry() => Assert.Equal(new TaskUser("2000:2000", 2000, 2000), TaskUser.Resolve("2000:2000", _passwd));

    [Theory]
    [InlineData("root")]
    [InlineData("0:0")]
    [InlineData("rootgroup")]
    [InlineData("1000:0")]
    public void Root_or_roots_group_is_refused(string setting) =>
        Assert.Contains("unprivileged", Assert.Throws<InvalidOperationException>(() => TaskUser.Resolve(setting, _passwd)).Message);

    [Fact]
    public void An_unknown_user_is_refused_saying_how_to_create_it() =>
        Assert.Contains("useradd", Assert.Throws<InvalidOperationException>(() => TaskUser.Resolve("nobody-here", _passwd)).Message);
}
