using System.Diagnostics;
using Platform.Executor.Tasks.Sandboxing;

namespace Platform.UnitTests.Sandboxing;

/// <summary>The launcher script, run for real by /bin/sh with plain files standing in for the cgroup.procs files.</summary>
public sealed class ShellLauncherTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("launcher-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private (string Output, int ExitCode) Run(string script, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, ArgumentList = { "-c", script, "platform-task" } };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)));
        return (output.Trim(), process.ExitCode);
    }

    [Fact]
    public void The_command_runs_with_the_pid_it_wrote_into_every_cgroup_file_and_the_seccomp_program_on_descriptor_3()
    {
        var files = new[] { "memory", "pids", "cpu" }.Select(n => Path.Combine(_directory, n)).ToArray();
        var seccomp = Path.Combine(_directory, "seccomp.bpf");
        File.WriteAllText(seccomp, "program");

        var (output, exitCode) = Run(ShellLauncher.Script(files.Length, seccomp: true),
            [.. files, seccomp, "/bin/sh", "-c", "echo $$; readlink /proc/self/fd/3", "task-shell"]);

        Assert.Equal(0, exitCode);
        var lines = output.Split('\n');
        // exec keeps the pid: the command is the very process that joined the cgroups.
        Assert.All(files, f => Assert.Equal(lines[0], File.ReadAllText(f).Trim()));
        Assert.Equal(seccomp, lines[1]);
    }

    [Fact]
    public void Without_seccomp_descriptor_3_stays_closed_and_the_arguments_after_the_cgroup_files_are_the_command()
    {
        var file = Path.Combine(_directory, "memory");

        var (output, exitCode) = Run(ShellLauncher.Script(1, seccomp: false),
            [file, "/bin/sh", "-c", "echo \"$0 $1\"; test -e /proc/self/fd/3 || echo closed", "first", "second"]);

        Assert.Equal(0, exitCode);
        Assert.Equal(["first second", "closed"], output.Split('\n'));
        Assert.NotEmpty(File.ReadAllText(file).Trim());
    }

    [Fact]
    public void A_cgroup_file_that_cannot_be_written_stops_the_chain_before_the_command()
    {
        var (output, exitCode) = Run(ShellLauncher.Script(1, seccomp: false), [Path.Combine(_directory, "missing", "cgroup.procs"), "/bin/echo", "ran"]);

        Assert.NotEqual(0, exitCode);
        Assert.Equal("", output);
    }
}
