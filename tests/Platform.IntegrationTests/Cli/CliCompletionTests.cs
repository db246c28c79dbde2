using System.Diagnostics;
using Platform.IntegrationTests.Infrastructure;
using Xunit;

namespace Platform.IntegrationTests.Cli;

/// <summary><c>platform completion bash</c>, sourced into a real bash and asked what it completes.</summary>
[Collection(PlatformCollection.Name)]
public sealed class CliCompletionTests(PlatformFixture platform) : IDisposable
{
    private readonly CliRunner _cli = new(platform);

    [Fact]
    public async Task The_bash_script_completes_verbs_flags_values_and_app_names()
    {
        var app = await platform.RegisterAppAsync();
        var script = await _cli.RunAsync("completion", "bash");
        Assert.True(script.ExitCode == 0, script.ToString());
        var path = Path.Combine(_cli.Home, "platform.bash");
        await File.WriteAllTextAsync(path, script.Out);

        Assert.Equal("run-task", await CompleteAsync(path, "platform run-t"));
        Assert.Equal("--wait", await CompleteAsync(path, "platform run-task x --wa"));
        Assert.Equal("Forbid", await CompleteAsync(path, "platform create-job a j --concurrency-policy F"));
        Assert.Equal(app, await CompleteAsync(path, $"platform tasks {app[..8]}"));

        var zsh = await _cli.RunAsync("completion", "zsh");
        Assert.StartsWith("autoload -U +X bashcompinit && bashcompinit\n", zsh.Out);
        Assert.Equal(64, (await _cli.RunAsync("completion", "fish")).ExitCode);
    }

    /// <summary>What the completion function offers for the last word of <paramref name="line"/>.</summary>
    private async Task<string> CompleteAsync(string script, string line)
    {
        var words = line.Split(' ');
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("--norc");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"source '{script}'; COMP_WORDS=({string.Join(' ', words.Select(w => $"'{w}'"))}); COMP_CWORD={words.Length - 1}; _platform; echo \"${{COMPREPLY[*]}}\"");
        foreach (var (name, value) in _cli.Environment())
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }
        using var bash = Process.Start(start)!;
        var output = await bash.StandardOutput.ReadToEndAsync();
        await bash.WaitForExitAsync();
        return output.Trim();
    }

    public void Dispose() => _cli.Dispose();
}
