using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Platform.IntegrationTests.Cli;
using Platform.IntegrationTests.Infrastructure;
using Xunit;

namespace Platform.IntegrationTests.OpenApi;

/// <summary>
/// GET /openapi/v1.json of the running Api documents every route the Api maps (listed from the real Program,
/// hosted in-process on the same database and broker), with problem bodies; and every request the CLI makes
/// is an operation of it.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed partial class OpenApiDocumentTests(PlatformFixture platform)
{
    [Fact]
    public async Task Every_mapped_route_is_in_the_document_with_its_problem_answers()
    {
        var document = JsonNode.Parse(await platform.Api.GetStringAsync("/openapi/v1.json"))!;
        var paths = document["paths"]!.AsObject();

        var routes = await MappedRoutesAsync();
        Assert.Contains(routes, r => r.Path == "/v3/apps/{app}/tasks" && r.Method == "POST");
        var missing = routes.Where(r => paths[r.Path]?[r.Method.ToLowerInvariant()] is null).ToList();
        Assert.True(missing.Count == 0, "not in /openapi/v1.json: " + string.Join(", ", missing));

        foreach (var (path, item) in paths.Where(p => p.Key.StartsWith("/v3/", StringComparison.Ordinal)))
        foreach (var (method, operation) in item!.AsObject())
        {
            var where = $"{method.ToUpperInvariant()} {path}";
            Assert.False(string.IsNullOrEmpty(operation!["operationId"]?.GetValue<string>()), where + " has no operationId");
            var responses = operation["responses"]!.AsObject();
            Assert.Contains(responses, r => r.Key.StartsWith('2'));
            foreach (var (status, response) in responses.Where(r => r.Key.StartsWith('4')))
                Assert.True(response!["content"]?["application/problem+json"] is not null, $"{where} {status} is not a problem body");
            if (path.Contains('{')) Assert.True(responses.ContainsKey("404"), where + " names a resource but has no 404");
            if (method is "post" or "patch" && operation["requestBody"] is not null)
                Assert.True(responses.ContainsKey("422"), where + " takes a body but has no 422");
        }
        // Request and response shapes are in the document, not just the paths.
        var run = paths["/v3/apps/{app}/tasks"]!["post"]!;
        Assert.EndsWith("/CreateTask", run["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
        Assert.EndsWith("/TaskResource", run["responses"]!["202"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>());
        var task = document["components"]!["schemas"]!["TaskResource"]!["properties"]!.AsObject();
        Assert.True(task.ContainsKey("sequence_id") && task.ContainsKey("state"), "TaskResource is not snake_case as served");
    }

    [Fact]
    public async Task Every_request_the_CLI_makes_is_an_operation_of_the_document()
    {
        var document = JsonNode.Parse(await platform.Api.GetStringAsync("/openapi/v1.json"))!;
        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(m => (Method: m.Key.ToUpperInvariant(), Pattern: new Regex("^" + Regex.Replace(Regex.Escape(p.Key), @"\\\{[^/]+?}", "[^/]+") + "$"))))
            .ToList();

        using var cli = new CliRunner(platform);
        var app = await platform.RegisterAppAsync(command: "echo hi");
        var job = "job-" + Guid.NewGuid().ToString("N")[..10];
        string[][] session =
        [
            ["apps"], ["app", app], ["set-env", app, "A", "1"], ["unset-env", app, "A"], ["run-task", app, "--wait"], ["tasks", app],
            ["task", app, "1"], ["events", app, "1"], ["logs", app, "--recent"], ["logs", app, "--task", "1"], ["run-task", app, "--command", "sleep 30"],
            ["terminate-task", app, "2", "--wait"], ["create-job", app, job, "--schedule", "0 3 * * *"], ["schedule-job", job, "0 4 * * *"], ["jobs"], ["jobs", app],
            ["job-schedules", job], ["suspend-job", job], ["resume-job", job], ["run-job", job], ["job-history", job], ["delete-job", job],
            ["create-app", app + "-2"], ["delete-app", app + "-2", "--force"],
        ];
        var requests = new List<(string Method, string Path, string Verb)>();
        foreach (var arguments in session)
        {
            var result = await cli.RunAsync([.. arguments, "--verbose"], []);
            Assert.True(result.ExitCode == 0, $"{string.Join(' ', arguments)}: {result}");
            foreach (Match request in RequestLine().Matches(result.Err))
                requests.Add((request.Groups["method"].Value, new Uri(request.Groups["url"].Value).AbsolutePath, arguments[0]));
        }
        Assert.True(requests.Count >= session.Length, "the CLI's --verbose shows no requests");
        var undocumented = requests.Where(r => !operations.Any(o => o.Method == r.Method && o.Pattern.IsMatch(r.Path))).ToList();
        Assert.True(undocumented.Count == 0, "the CLI calls what the document does not have: " + string.Join(", ", undocumented));
    }

    /// <summary>Every route the Api's own Program maps, as (method, OpenAPI path), read from its endpoint data source.</summary>
    private async Task<List<(string Method, string Path)>> MappedRoutesAsync()
    {
        await using var api = new WebApplicationFactory<Program>().WithWebHostBuilder(host =>
        {
            foreach (var (name, value) in platform.Environment()) host.UseSetting(name.Replace("__", ":"), value);
            // Never the Api's own 8080, should a real server be started: someone may be running run.sh.
            host.UseSetting("Urls", "http://127.0.0.1:0");
        });
        var endpoints = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        return endpoints
            .Where(e => e.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .Select(e => (Methods: e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"], Path: OpenApiPath(e.RoutePattern.RawText!)))
            .Where(r => !r.Path.StartsWith("/openapi/", StringComparison.Ordinal)) // the document itself
            .SelectMany(r => r.Methods.Select(m => (m, r.Path)))
            .ToList();
    }

    /// <summary><c>/v3/tasks/{guid:guid}</c> → <c>/v3/tasks/{guid}</c>, as OpenAPI writes a route.</summary>
    private static string OpenApiPath(string pattern) => "/" + Constraint().Replace(pattern, "{$1}").TrimStart('/');

    [GeneratedRegex(@"\{([^:}]+)(:[^}]*)?\}")]
    private static partial Regex Constraint();

    [GeneratedRegex(@"^> (?<method>[A-Z]+) (?<url>http\S+)$", RegexOptions.Multiline)]
    private static partial Regex RequestLine();
}
