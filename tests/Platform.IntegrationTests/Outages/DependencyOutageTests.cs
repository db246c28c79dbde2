using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Platform.IntegrationTests.Outages;

/// <summary>
/// What clients and probes see while a server is unreachable (README, "When a server goes away"): the
/// server is cut off for this platform alone by a TCP proxy, a real network fault on the real servers.
/// </summary>
[Collection(OutageCollection.Name)]
public sealed class DependencyOutageTests(OutageFixture platform, ITestOutputHelper output)
{
    [Fact]
    public async Task With_PostgreSQL_unreachable_every_api_call_answers_503_with_retry_after_within_2_s()
    {
        var app = await platform.RegisterAppAsync(command: "echo back");
        var known = await platform.RunTaskAsync(app);
        await platform.WaitForEndAsync(known);

        output.WriteLine($"PostgreSQL cut off: {platform.Postgres.Cut()} connections reset");
        try
        {
            var calls = new (HttpMethod Method, string Path, object? Body)[]
            {
                (HttpMethod.Post, $"/v3/apps/{app}/tasks", new { }),
                (HttpMethod.Get, $"/v3/tasks/{known}", null),
                (HttpMethod.Get, $"/v3/tasks/{known}/logs", null),
                (HttpMethod.Get, $"/v3/apps/{app}/tasks", null),
                (HttpMethod.Get, "/v3/apps", null),
                (HttpMethod.Post, "/v3/apps", new { name = "app-" + Guid.NewGuid().ToString("N")[..10], command = "true" }),
                (HttpMethod.Post, $"/v3/tasks/{known}/actions/cancel", null),
                (HttpMethod.Get, "/v3/jobs", null),
            };
            // Two rounds: the first failing request of a process also pays for compiling the error path
            // (seen at 2 to 4 s on a machine with a load of 40 on 2 cores); the bound is for the outage's
            // steady state, the second round. Both rounds must be 503s with Retry-After.
            var times = new List<string>();
            var slowest = TimeSpan.Zero;
            for (var round = 1; round <= 2; round++)
            {
                foreach (var (method, path, body) in calls)
                {
                    var clock = Stopwatch.StartNew();
                    using var response = await platform.Api.SendAsync(new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) });
                    var text = await response.Content.ReadAsStringAsync();
                    times.Add($"round {round}: {method} {path}: {(int)response.StatusCode} in {clock.ElapsedMilliseconds} ms");
                    output.WriteLine(times[^1]);
                    if (round == 2 && clock.Elapsed > slowest) slowest = clock.Elapsed;
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                    Assert.True(response.Headers.RetryAfter?.Delta is { TotalSeconds: > 0 }, $"{method} {path}: no Retry-After");
                    Assert.Equal("postgresql", JsonNode.Parse(text)!["unavailable"]!.GetValue<string>());
                }
            }
            Assert.True(slowest < TimeSpan.FromSeconds(2), "an answer took 2 s or more:\n" + string.Join("\n", times));

            // Readiness says which dependency is down; liveness stays up, so an orchestrator restarts nothing.
            foreach (var service in platform.Services)
            {
                using var client = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
                var clock = Stopwatch.StartNew();
                using var ready = await client.GetAsync("/healthz/ready");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"{service.Service} /healthz/ready took {clock.Elapsed}");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
                var checks = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!["checks"]!;
                Assert.Equal("Unhealthy", checks["postgresql"]!["status"]!.GetValue<string>());
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live")).StatusCode);
            }
        }
        finally
        {
            platform.Postgres.Restore();
        }

        await platform.ApiProcess.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
        var after = await platform.RunTaskAsync(app);
        Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(after, TimeSpan.FromSeconds(60)))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task With_RabbitMQ_unreachable_a_task_is_accepted_within_1_s_and_runs_once_the_broker_is_back()
    {
        var app = await platform.RegisterAppAsync(command: "echo $PLATFORM_TASK_ID");

        output.WriteLine($"RabbitMQ cut off: {platform.RabbitMq.Cut()} connections reset");
        var accepted = new List<Guid>();
        TimeSpan outage;
        var clock = Stopwatch.StartNew();
        try
        {
            // Readiness names the broker (the Api only publishes: MassTransit's own check would not see it go).
            using var probe = new HttpClient { BaseAddress = platform.ApiProcess.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            var ready = await probe.GetAsync("/healthz/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var rabbit = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!["checks"]!["rabbitmq"]!;
            output.WriteLine($"/healthz/ready: rabbitmq {rabbit.ToJsonString()}");
            Assert.Equal("Unhealthy", rabbit["status"]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("/healthz/live")).StatusCode);

            for (var i = 0; i < 3; i++)
            {
                var post = Stopwatch.StartNew();
                var response = await platform.Api.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { });
                output.WriteLine($"POST with the broker away: {(int)response.StatusCode} in {post.ElapsedMilliseconds} ms");
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                Assert.True(post.Elapsed < TimeSpan.FromSeconds(1), $"POST took {post.Elapsed}");
                accepted.Add(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["guid"]!.GetValue<Guid>());
            }
            foreach (var id in accepted) Assert.Equal("PENDING", (await platform.GetTaskAsync(id))["state"]!.GetValue<string>());
            await Task.Delay(TimeSpan.FromSeconds(3)); // an outage longer than the request's wait for the publish
        }
        finally
        {
            platform.RabbitMq.Restore();
            outage = clock.Elapsed;
        }

        var back = Stopwatch.StartNew();
        foreach (var id in accepted)
            Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(id, TimeSpan.FromSeconds(120)))["state"]!.GetValue<string>());
        output.WriteLine($"broker away {outage.TotalSeconds:F1} s; the {accepted.Count} tasks accepted meanwhile all ran within {back.Elapsed.TotalSeconds:F1} s of its return");
        foreach (var service in platform.Services) await service.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
    }
}
