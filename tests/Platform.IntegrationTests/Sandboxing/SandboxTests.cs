using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Sandboxing;

/// <summary>Each task runs isolated, and its limits hold (the executors here run sandboxed: bubblewrap and cgroup v1 or v2).</summary>
[Collection(PlatformCollection.Name)]
public sealed class SandboxTests(PlatformFixture platform)
{
    [Fact]
    public async Task A_task_over_its_memory_limit_is_killed_and_fails_saying_so()
    {
        var app = await platform.RegisterAppAsync();
        // Holds about 200 MB in a shell variable, far over the 32 MB limit.
        var id = await platform.RunTaskAsync(app, new { command = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived ${#x}", memory_in_mb = 32 });

        var task = await platform.WaitForEndAsync(id);

        Assert.Equal("FAILED", task["state"]!.GetValue<string>());
        Assert.Contains("memory limit of 32 MB exceeded", task["result"]!["failure_reason"]!.GetValue<string>());
        Assert.DoesNotContain(await platform.GetLogsAsync(id), l => l!["line"]!.GetValue<string>().StartsWith("survived"));
    }

    [Fact]
    public async Task A_command_of_plain_words_gets_its_arguments_as_written_and_a_missing_program_fails_as_under_the_shell()
    {
        var app = await platform.RegisterAppAsync();
        // Several of each in a row, so that both executors run some (the broker hands them out in turn): the
        // launcher starts such a command without the shell, bubblewrap (the other executor) through it; the
        // outcome must be the same.
        var printing = new List<Guid>();
        var missing = new List<Guid>();
        for (var i = 0; i < 4; i++) printing.Add(await platform.RunTaskAsync(app, new { command = "date -u -d @0 +%Y-%m-%dT%H:%M,done" }));
        for (var i = 0; i < 4; i++) missing.Add(await platform.RunTaskAsync(app, new { command = "no-such-program-7f3a --flag=1" }));

        foreach (var id in printing)
        {
            Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(id))["state"]!.GetValue<string>());
            Assert.Equal("1970-01-01T00:00,done", (await platform.GetLogsAsync(id)).Single()!["line"]!.GetValue<string>());
        }
        foreach (var id in missing)
        {
            var task = await platform.WaitForEndAsync(id);
            Assert.Equal("FAILED", task["state"]!.GetValue<string>());
            Assert.Equal("exited with code 127", task["result"]!["failure_reason"]!.GetValue<string>());
            Assert.Contains(await platform.GetLogsAsync(id), l => l!["line"]!.GetValue<string>().EndsWith("no-such-program-7f3a: not found"));
        }
        foreach (var group in (List<Guid>[])[printing, missing])
        {
            var executors = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var id in group) executors.Add(await platform.ExecutorOfAsync(id));
            Assert.Equal([PlatformFixture.ExecutorA, PlatformFixture.ExecutorB], executors);
        }
    }

    [Fact]
    public async Task A_task_within_its_memory_limit_is_not_killed()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new { command = "x=$(head -c 20000000 /dev/zero | tr '\\0' a); echo kept ${#x}", memory_in_mb = 256 });

        var task = await platform.WaitForEndAsync(id);

        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
        Assert.Equal("kept 20000000", (await platform.GetLogsAsync(id)).Single()!["line"]!.GetValue<string>());
    }

    [Fact]
    public async Task Writes_past_the_disk_limit_fail_inside_the_task_with_enospc()
    {
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new
        {
            command = "dd if=/dev/zero of=big bs=1048576 count=16 2>&1; echo \"dd exit $?\"; ls -l big | awk '{print \"size\", $5}'",
            disk_in_mb = 8, memory_in_mb = 256,
        });

        await platform.WaitForEndAsync(id);
        var lines = (await platform.GetLogsAsync(id)).Select(l => l!["line"]!.GetValue<string>()).ToList();

        Assert.Contains(lines, l => l.Contains("No space left on device"));
        Assert.Contains("dd exit 1", lines);
        var size = long.Parse(lines.Single(l => l.StartsWith("size ")).Split(' ')[1]);
        Assert.True(size <= 8L * 1024 * 1024, $"the file grew to {size} bytes, past the 8 MB limit");
    }

    [Fact]
    public async Task A_task_sees_only_its_own_scratch_directory_and_processes_and_cannot_write_elsewhere()
    {
        var app = await platform.RegisterAppAsync();
        var neighbour = await platform.RunTaskAsync(app, new { command = "echo mine > /home/task/neighbour-file; sleep 3" });
        await Task.Delay(500);
        var id = await platform.RunTaskAsync(app, new
        {
            command = "pwd; ls -A /home/task; touch /etc/platform-test 2>/dev/null && echo wrote-etc || echo etc-read-only; " +
                      "echo tmp > /tmp/t && cat /home/task/tmp/t; echo processes $(ls /proc | grep -c '^[0-9]')",
        });

        await platform.WaitForEndAsync(id);
        var lines = (await platform.GetLogsAsync(id)).Select(l => l!["line"]!.GetValue<string>()).ToList();

        Assert.Equal("/home/task", lines[0]);
        Assert.Equal("tmp", lines[1]); // only its own tmp: nothing of the neighbour's scratch
        Assert.Equal("etc-read-only", lines[2]);
        Assert.Equal("tmp", lines[3]); // /tmp lives inside the task's own scratch
        var processes = int.Parse(lines[4].Split(' ')[1]);
        Assert.True(processes < 8, $"the task saw {processes} processes: not its own PID namespace");
        Assert.False(File.Exists("/etc/platform-test"));
        await platform.WaitForEndAsync(neighbour);
    }

    [Fact]
    public async Task A_task_sees_the_hosts_system_directories_but_not_its_data_secrets_or_the_platforms_checkout()
    {
        // The host has all of these; the checkout is where this test runs from.
        var checkout = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));
        var hidden = new[] { "/var/lib", "/root", "/run", checkout }.Where(Directory.Exists).ToList();
        Assert.NotEmpty(hidden);
        var app = await platform.RegisterAppAsync();
        var id = await platform.RunTaskAsync(app, new
        {
            command = "for d in /usr/bin /etc " + string.Join(' ', hidden) + "; do if [ -e \"$d\" ]; then echo \"$d present\"; else echo \"$d absent\"; fi; done",
        });

        await platform.WaitForEndAsync(id);
        var lines = (await platform.GetLogsAsync(id)).Select(l => l!["line"]!.GetValue<string>()).ToList();

        Assert.Equal(["/usr/bin present", "/etc present", .. hidden.Select(d => $"{d} absent")], lines);
    }
}
