using System.Diagnostics;
using System.Text.RegularExpressions;
using Platform.IntegrationTests.Infrastructure;
using Xunit;

namespace Platform.IntegrationTests.Cli;

/// <summary>
/// The CLI in a real terminal, as a person sees it: tmux runs a shell, the test types into it
/// (<c>send-keys</c>) and reads the screen (<c>capture-pane</c>, with <c>-e</c> for colours). eng/setup.sh installs tmux.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class CliTerminalTests(PlatformFixture platform) : IAsyncLifetime
{
    private readonly CliRunner _cli = new(platform);
    private readonly string _socket = "platform-cli-" + Guid.NewGuid().ToString("N")[..8];
    // What the shell prints once the command has ended (the typed line itself also holds "exit=").
    private const string Exited = @"(?m)^exit=\d+$";

    public async Task InitializeAsync()
    {
        var environment = _cli.Environment();
        var exports = string.Join(" ", environment.Where(e => e.Value is not null && e.Key != "PATH").Select(e => $"-e '{e.Key}={e.Value}'"));
        // tmux gives a new session the client's PATH whatever -e says, so the shell gets it on its command line.
        await TmuxAsync($"new-session -d -x 200 -y 50 {exports} \"env -u NO_COLOR TERM=xterm-256color PATH='{environment["PATH"]}' bash --norc --noprofile\"");
        await TmuxAsync("set-option -g status off");
        await TypeAsync("PS1='$ '; clear");
    }

    [Fact]
    public async Task The_live_wait_the_table_and_colours_look_right_on_a_terminal()
    {
        var app = await platform.RegisterAppAsync();

        await TypeAsync($"platform run-task {app} --name live --command 'echo one; sleep 4; echo two; echo oops >&2' --wait; echo exit=$?");
        // The first line and the progress line (state and time waited) are on screen while the task still runs.
        var during = await ScreenUntilAsync(s => s.Contains("[APP/TASK/live] OUT one"), TimeSpan.FromSeconds(30));
        Assert.DoesNotMatch(Exited, during);
        var progress = await ScreenUntilAsync(s => Regex.IsMatch(s, @"task 1 RUNNING \d+\.\ds"), TimeSpan.FromSeconds(10));
        Assert.DoesNotMatch(Exited, progress);
        var after = await ScreenUntilAsync(s => Regex.IsMatch(s, Exited), TimeSpan.FromSeconds(30));
        Assert.Matches("(?m)^exit=0$", after);
        Assert.Contains("Task 1 (live) SUCCEEDED", after);
        Assert.DoesNotContain("task 1 RUNNING", after); // the progress line is cleared at the end
        var coloured = await CaptureAsync(escapes: true);
        Assert.Matches(@"\[APP/TASK/live\] \e\[31mERR\e\[(0|39)m \e\[31moops", coloured);

        await TypeAsync($"clear; platform tasks {app}");
        var table = (await ScreenUntilAsync(s => s.Contains("SUCCEEDED"), TimeSpan.FromSeconds(20))).Split('\n');
        var header = Array.FindIndex(table, l => l.StartsWith("id ", StringComparison.Ordinal));
        Assert.True(header >= 0, string.Join('\n', table));
        Assert.Matches(@"^id\s+name\s+state\s+start time\s+duration\s+command$", table[header].TrimEnd());
        Assert.Matches(@"^1\s+live\s+SUCCEEDED\s+", table[header + 1]);
        Assert.Equal(table[header].IndexOf("state", StringComparison.Ordinal), table[header + 1].IndexOf("SUCCEEDED", StringComparison.Ordinal));

        await TypeAsync($"clear; NO_COLOR=1 platform logs {app} --task 1; echo done=$?");
        await ScreenUntilAsync(s => Regex.IsMatch(s, "(?m)^done=0$"), TimeSpan.FromSeconds(20));
        var plain = await CaptureAsync(escapes: true);
        Assert.Contains("[APP/TASK/live] ERR oops", plain);
        Assert.DoesNotContain("\e[31m", plain);
    }

    private Task TypeAsync(string line) => TmuxAsync($"send-keys -t 0 -l {Quote(line)}").ContinueWith(_ => TmuxAsync("send-keys -t 0 Enter")).Unwrap();

    private async Task<string> ScreenUntilAsync(Func<string, bool> seen, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string screen;
        do
        {
            screen = await CaptureAsync(escapes: false);
            if (seen(screen)) return screen;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException("not seen on the terminal:\n" + screen);
    }

    private Task<string> CaptureAsync(bool escapes) => TmuxAsync($"capture-pane -p {(escapes ? "-e " : "")}-t 0");

    private async Task<string> TmuxAsync(string arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"tmux -L {_socket} {arguments}");
        using var tmux = Process.Start(start)!;
        var output = await tmux.StandardOutput.ReadToEndAsync();
        var error = await tmux.StandardError.ReadToEndAsync();
        await tmux.WaitForExitAsync();
        if (tmux.ExitCode != 0) throw new InvalidOperationException($"tmux {arguments}: {error}");
        return output;
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";

    public async Task DisposeAsync()
    {
        try
        {
            await TmuxAsync("kill-server");
        }
        catch (InvalidOperationException)
        {
        }
        _cli.Dispose();
    }
}
