using Platform.IntegrationTests.Infrastructure;
using Xunit;

namespace Platform.IntegrationTests.Cli;

/// <summary>cf's app verbs and the CLI's settings (login, PLATFORM_API, PLATFORM_TOKEN, --verbose) against a whole platform.</summary>
[Collection(PlatformCollection.Name)]
public sealed class CliAppTests(PlatformFixture platform) : IDisposable
{
    private readonly CliRunner _cli = new(platform);

    [Fact]
    public async Task Apps_are_created_shown_listed_changed_and_deleted()
    {
        var app = "cli-" + Guid.NewGuid().ToString("N")[..10];
        var created = await _cli.RunAsync("create-app", app, "--command", "echo $GREETING", "-m", "64M", "-k", "1G",
            "--env", "GREETING=hello", "--secret", "DB_PASSWORD=hunter2", "--json");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal(64, created.Json["memory_in_mb"]!.GetValue<int>());
        Assert.Equal(1024, created.Json["disk_in_mb"]!.GetValue<int>());
        Assert.Equal("hello", created.Json["env"]!["GREETING"]!.GetValue<string>());

        var shown = await _cli.RunAsync("app", app);
        Assert.Contains("DB_PASSWORD=(secret)", shown.Out);
        Assert.DoesNotContain("hunter2", shown.Out);

        var list = await _cli.RunAsync("apps");
        Assert.Matches(@"(?m)^name\s+memory\s+disk\s+command$", list.Out);
        Assert.Matches($@"(?m)^{app}\s+64M\s+1024M\s+echo \$GREETING$", list.Out);
        Assert.Contains((await _cli.RunAsync("apps", "--json")).Json.AsArray(), a => a!["name"]!.GetValue<string>() == app);

        Assert.Equal(0, (await _cli.RunAsync("set-env", app, "REGION", "eu")).ExitCode);
        Assert.Equal(0, (await _cli.RunAsync("unset-env", app, "GREETING")).ExitCode);
        var changed = (await _cli.RunAsync("app", app, "--json")).Json;
        Assert.Equal("eu", changed["env"]!["REGION"]!.GetValue<string>());
        Assert.Null(changed["env"]!["GREETING"]);
        var run = await _cli.RunAsync("run-task", app, "--command", "echo $REGION", "--wait");
        Assert.Contains("OUT eu", run.Out);

        var duplicate = await _cli.RunAsync("create-app", app);
        Assert.True(duplicate.ExitCode == 4, duplicate.ToString());
        Assert.StartsWith("platform: 409 ", duplicate.Err);

        Assert.Equal(0, (await _cli.RunAsync("delete-app", app)).ExitCode);
        var gone = await _cli.RunAsync("app", app);
        Assert.True(gone.ExitCode == 4, gone.ToString());
        Assert.Equal($"platform: 404 App not found. No app '{app}' exists.", gone.Err.Trim());
    }

    [Fact]
    public async Task Bad_input_is_a_usage_error_before_any_request_and_a_refused_field_is_named()
    {
        var app = await platform.RegisterAppAsync();
        foreach (var arguments in new[]
                 {
                     new[] { "run-task", app, "-m", "12X" },
                     ["run-task", app, "--timeout", "soon", "--wait"],
                     ["run-task", app, "--no-such-flag"],
                     ["no-such-verb"],
                     ["create-app", "x", "--env", "NOEQUALS"],
                     ["create-job", app, "j", "--concurrency-policy", "Sometimes"],
                 })
        {
            var result = await _cli.RunAsync(arguments);
            Assert.True(result.ExitCode == 64, $"{string.Join(' ', arguments)}: {result}");
            Assert.StartsWith("platform: ", result.Err);
            Assert.DoesNotContain("   at ", result.Err);
        }
        Assert.Empty((await _cli.RunAsync("tasks", app, "--json")).Json.AsArray());

        var invalid = await _cli.RunAsync("create-app", "Not_A_Name");
        Assert.True(invalid.ExitCode == 4, invalid.ToString());
        Assert.StartsWith("platform: 422 name: name must be", invalid.Err);
        Assert.Single(invalid.Err.Trim().Split('\n'));

        var tooBig = await _cli.RunAsync("run-task", app, "-m", "1000G");
        Assert.True(tooBig.ExitCode == 4, tooBig.ToString());
        Assert.StartsWith("platform: 422 memory_in_mb:", tooBig.Err);

        var unknownApp = await _cli.RunAsync("run-task", "no-such-app", "--wait");
        Assert.True(unknownApp.ExitCode == 4, unknownApp.ToString());
        Assert.Contains("404", unknownApp.Err);
    }

    [Fact]
    public async Task An_unreachable_or_missing_API_has_its_own_exit_codes()
    {
        var unreachable = await _cli.RunAsync(["apps"], [("PLATFORM_API", "http://127.0.0.1:9")]);
        Assert.True(unreachable.ExitCode == 69, unreachable.ToString());
        Assert.StartsWith("platform: cannot reach the API at http://127.0.0.1:9/", unreachable.Err);
        Assert.DoesNotContain("   at ", unreachable.Err);

        var waiting = await _cli.RunAsync(["run-task", "x", "--wait"], [("PLATFORM_API", "http://127.0.0.1:9")]);
        Assert.Equal(69, waiting.ExitCode);

        var none = await _cli.RunAsync(["apps"], [("PLATFORM_API", null)]);
        Assert.True(none.ExitCode == 78, none.ToString());
        Assert.Contains("platform login --api URL", none.Err);
    }

    [Fact]
    public async Task Login_stores_the_target_and_token_for_its_owner_only_and_verbose_masks_the_token()
    {
        var token = CliRunner.TokenOf(platform) ?? "tok-" + Guid.NewGuid().ToString("N");
        var login = await _cli.RunAsync(["login", "--api", platform.Api.BaseAddress!.ToString(), "--token", token], [("PLATFORM_API", null), ("PLATFORM_TOKEN", null)]);
        Assert.True(login.ExitCode == 0, login.ToString());
        var config = Path.Combine(_cli.Home, ".platform", "config.json");
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        Assert.Contains(token, await File.ReadAllTextAsync(config));
        Assert.DoesNotContain(token, login.Out);

        // No PLATFORM_API now: the stored target and token are used, and --verbose shows the exchange without the token.
        var verbose = await _cli.RunAsync(["apps", "--verbose"], [("PLATFORM_API", null), ("PLATFORM_TOKEN", null)]);
        Assert.True(verbose.ExitCode == 0, verbose.ToString());
        Assert.Contains($"> GET {platform.Api.BaseAddress}v3/apps", verbose.Err);
        Assert.Contains($"> Authorization: Bearer {token[..4]}****", verbose.Err);
        Assert.Contains("< 200 OK", verbose.Err);
        Assert.DoesNotContain(token, verbose.Err);

        // The environment overrides the file.
        var overridden = await _cli.RunAsync(["apps"], [("PLATFORM_API", "http://127.0.0.1:9")]);
        Assert.Equal(69, overridden.ExitCode);

        var refused = await _cli.RunAsync(["login", "--api", "http://127.0.0.1:9"], [("PLATFORM_API", null)]);
        Assert.Equal(69, refused.ExitCode);
        Assert.Contains(platform.Api.BaseAddress!.ToString().TrimEnd('/'), await File.ReadAllTextAsync(config));
    }

    public void Dispose() => _cli.Dispose();
}
