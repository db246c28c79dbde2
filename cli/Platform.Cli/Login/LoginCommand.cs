using System.CommandLine;
using System.Text.Json.Nodes;
using Platform.Cli.Configuration;
using Platform.Cli.Http;
using Platform.Cli.Output;

namespace Platform.Cli.Login;

/// <summary>
/// <c>platform login --api URL [--token T]</c>: checks that the API answers (and accepts the token), then
/// stores both in <c>~/.platform/config.json</c> (0600). <c>PLATFORM_API</c> and <c>PLATFORM_TOKEN</c> override it.
/// </summary>
internal static class LoginCommand
{
    public static Command Create()
    {
        var api = new Option<string?>("--api", "-a") { Description = "The API's URL, like http://127.0.0.1:8080", HelpName = "URL" };
        var token = new Option<string?>("--token") { Description = "A bearer token (sent as Authorization: Bearer)", HelpName = "TOKEN" };
        return CliCommand.Verb("login", "Set the API to talk to and the token to use", async (c, ct) =>
        {
            var stored = CliSettings.ReadFile();
            // A stored token goes only to the API it was stored for: a new --api without --token drops it.
            var target = c.Get(api) ?? stored.Api;
            var settings = new CliSettings(target, c.Get(token) ?? (SameApi(target, stored.Api) ? stored.Token : null));
            if (settings.Api is null) throw new CliFailure(ExitCodes.Usage, "login needs --api URL the first time.");
            settings = settings with { Api = settings.RequireApi().ToString().TrimEnd('/') };
            // A list of one app: answers only when the API is there and the token is accepted.
            using (var client = new PlatformClient(settings, c.Terminal, c.Parse.GetValue(CliOptions.Verbose)))
                await client.GetAsync("/v3/apps?per_page=1", ct);
            settings.Save();
            if (c.Json)
                c.Terminal.Json(new JsonObject { ["api"] = settings.Api, ["token"] = settings.Token is null ? null : PlatformClient.Mask(settings.Token), ["config"] = CliSettings.FilePath });
            else
                c.Terminal.Line($"API endpoint: {settings.Api}{(settings.Token is null ? "" : $" (token {PlatformClient.Mask(settings.Token)})")}; saved in {CliSettings.FilePath}");
            return ExitCodes.Success;
        }, api, token);
    }

    private static bool SameApi(string? a, string? b) =>
        a is not null && b is not null && string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    /// <summary><c>platform target</c>: where the CLI would talk to now, after the environment's overrides.</summary>
    public static Command Target() => CliCommand.Verb("target", "Show the API and token in use", (c, _) =>
    {
        var settings = CliSettings.Load();
        var token = settings.Token is null ? null : PlatformClient.Mask(settings.Token);
        if (c.Json) c.Terminal.Json(new JsonObject { ["api"] = settings.Api, ["token"] = token });
        else
        {
            c.Terminal.Line($"API endpoint: {settings.Api ?? "(none: platform login --api URL)"}");
            c.Terminal.Line($"token:        {token ?? "(none)"}");
        }
        return Task.FromResult(ExitCodes.Success);
    });
}
