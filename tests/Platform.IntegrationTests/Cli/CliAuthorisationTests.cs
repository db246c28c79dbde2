using System.Text;
using Platform.IntegrationTests.Infrastructure;
using Xunit;

namespace Platform.IntegrationTests.Cli;

/// <summary>
/// How the CLI carries a token and reads a refusal: against a stand-in API that answers 401 or 403 with a
/// problem body and records the Authorization header it got (the platform's own access control is other work).
/// </summary>
public sealed class CliAuthorisationTests : IDisposable
{
    private readonly CliRunner _cli = new(null);

    [Theory]
    [InlineData(401, "The token is missing or has expired.")]
    [InlineData(403, "The role 'viewer' cannot run tasks.")]
    public async Task A_refused_token_is_exit_77_and_the_token_is_sent_as_a_bearer_token(int status, string detail)
    {
        using var standIn = new StandInApi(status, detail);
        var result = await _cli.RunAsync(["apps"], [("PLATFORM_API", standIn.Url), ("PLATFORM_TOKEN", "secret-token-1")]);
        Assert.True(result.ExitCode == 77, result.ToString());
        Assert.Equal($"platform: {status} Refused. {detail}", result.Err.Trim());
        Assert.Equal("Bearer secret-token-1", standIn.Authorization);

        var anonymous = await _cli.RunAsync(["apps"], [("PLATFORM_API", standIn.Url), ("PLATFORM_TOKEN", null)]);
        Assert.Equal(77, anonymous.ExitCode);
        Assert.Null(standIn.Authorization);
    }

    public void Dispose() => _cli.Dispose();

    private sealed class StandInApi : IDisposable
    {
        private readonly LoopbackHttpServer _server;

        public StandInApi(int status, string detail) =>
            _server = new LoopbackHttpServer(async context =>
            {
                Authorization = context.Request.Headers["Authorization"];
                var body = Encoding.UTF8.GetBytes($$"""{"type":"about:blank","title":"Refused.","status":{{status}},"detail":"{{detail}}"}""");
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/problem+json";
                await context.Response.OutputStream.WriteAsync(body);
            });

        public string Url => _server.Url;
        public string? Authorization { get; private set; }

        public void Dispose() => _server.Dispose();
    }
}
