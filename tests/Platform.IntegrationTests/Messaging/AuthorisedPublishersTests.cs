using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.IntegrationTests.Infrastructure;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Platform.IntegrationTests.Messaging;

/// <summary>
/// A RunTask published on RabbitMQ is authorised like an API call: its publisher is the broker-validated
/// <c>user_id</c>, mapped to a service account with a role in the app's space. Anything else goes to the
/// error queue and is not recorded in the app's history.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AuthorisedPublishersTests(PlatformFixture platform) : IAsyncLifetime
{
    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        using var management = Management();
        foreach (var user in _created) await management.DeleteAsync($"api/users/{user}");
    }

    private HttpClient Management()
    {
        var management = new HttpClient { BaseAddress = platform.Servers.RabbitManagement };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{platform.Servers.RabbitUser}:{platform.Servers.RabbitPassword}")));
        return management;
    }

    [Fact]
    public async Task A_mapped_developer_publisher_runs_tasks_and_unmapped_anonymous_or_auditor_publishers_are_refused()
    {
        var space = await platform.CreateSpaceAsync();
        var app = await platform.RegisterAppAsync("echo published", space: space);
        var developer = await BrokerUserAsync();
        var auditor = await BrokerUserAsync();
        var stranger = await BrokerUserAsync();
        var (publisherSubject, _) = await platform.ServiceAccountAsync(space, "developer", rabbitMqUser: developer.User);
        await platform.ServiceAccountAsync(space, "auditor", rabbitMqUser: auditor.User);
        var errorQueueBefore = await RabbitMqVirtualHosts.MessagesInAsync(platform.Servers, platform.Isolation, "executor-run-task_error");

        var allowed = Guid.NewGuid();
        await PublishAsync(developer, new { taskId = allowed, app }, userId: developer.User);
        var task = await platform.WaitForEndAsync(allowed);
        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
        // Who did it: the service account the broker-validated user maps to; the claim is the executor's own.
        var events = (await platform.Api.GetFromJsonAsync<JsonElement>($"/v3/tasks/{allowed}/events")).GetProperty("resources").EnumerateArray().ToList();
        Assert.Equal($"{publisherSubject} (outside_publisher, RabbitMQ user {developer.User})",
            events.Single(e => e.GetProperty("type").GetString() == "task_accepted").GetProperty("by").GetString());
        var claimed = events.Single(e => e.GetProperty("type").GetString() == "task_claimed");
        Assert.True(!claimed.TryGetProperty("by", out var claimedBy) || claimedBy.ValueKind == JsonValueKind.Null, claimed.ToString());

        var refused = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };
        await PublishAsync(auditor, new { taskId = refused[0], app }, userId: auditor.User);
        await PublishAsync(stranger, new { taskId = refused[1], app }, userId: stranger.User);
        await PublishAsync(developer, new { taskId = refused[2], app }, userId: null);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await RabbitMqVirtualHosts.MessagesInAsync(platform.Servers, platform.Isolation, "executor-run-task_error") < errorQueueBefore + 3 && DateTime.UtcNow < deadline)
            await Task.Delay(200);
        Assert.Equal(errorQueueBefore + 3, await RabbitMqVirtualHosts.MessagesInAsync(platform.Servers, platform.Isolation, "executor-run-task_error"));
        foreach (var id in refused) Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync($"/v3/tasks/{id}")).StatusCode);
        var history = await platform.Api.GetFromJsonAsync<JsonElement>($"/v3/apps/{app}/tasks");
        Assert.Equal(1, history.GetProperty("pagination").GetProperty("total_results").GetInt32());
        var executorLogs = string.Concat(await Task.WhenAll(platform.Services.Where(s => s.Service == "Executor").Select(s => File.ReadAllTextAsync(s.LogPath))));
        Assert.Contains("anonymous publishers may not run tasks", executorLogs);
    }

    [Fact]
    public async Task The_broker_refuses_a_spoofed_user_id_and_a_publisher_may_only_write_to_the_run_task_exchange()
    {
        var publisher = await BrokerUserAsync();
        var factory = Factory(publisher);
        await using var connection = await factory.CreateConnectionAsync();

        // RabbitMQ closes the channel when user_id is not the connection's user: nobody can publish as another.
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true)))
            await Assert.ThrowsAnyAsync<Exception>(async () => await channel.BasicPublishAsync("platform.run-task", "", false,
                new BasicProperties { UserId = "platform-api", ContentType = "application/json" }, "{}"u8.ToArray()));

        await using (var channel = await connection.CreateChannelAsync())
            await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.BasicConsumeAsync("executor-run-task", true, new RabbitMQ.Client.Events.AsyncEventingBasicConsumer(channel)));
        await using (var channel = await connection.CreateChannelAsync())
            await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeclareAsync("publisher-owned-queue"));
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true)))
            await Assert.ThrowsAnyAsync<Exception>(async () => await channel.BasicPublishAsync("platform.terminate-task", "", false,
                new BasicProperties { UserId = publisher.User, ContentType = "application/json" }, "{}"u8.ToArray()));
    }

    /// <summary>A RabbitMQ user of this test's own, with the outside publishers' rights (eng/rabbitmq-users.tsv) on the fixture's virtual host.</summary>
    private async Task<(string User, string Password)> BrokerUserAsync()
    {
        var user = "publisher-" + Guid.NewGuid().ToString("N")[..10];
        var password = Guid.NewGuid().ToString("N");
        using var management = Management();
        (await management.PutAsJsonAsync($"api/users/{user}", new { password, tags = "" })).EnsureSuccessStatusCode();
        var rights = RabbitMqVirtualHosts.UserPermissions().Single(p => p.User == "platform-publisher");
        (await management.PutAsJsonAsync($"api/permissions/{platform.Isolation}/{user}",
            new { configure = rights.Configure, write = rights.Write, read = rights.Read })).EnsureSuccessStatusCode();
        _created.Add(user);
        return (user, password);
    }

    private readonly List<string> _created = [];

    private ConnectionFactory Factory((string User, string Password) login) => new()
    {
        HostName = platform.Servers.RabbitHost, Port = platform.Servers.RabbitPort, VirtualHost = platform.Isolation,
        UserName = login.User, Password = login.Password,
    };

    private async Task PublishAsync((string User, string Password) login, object message, string? userId)
    {
        await using var connection = await Factory(login).CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
        await channel.BasicPublishAsync("platform.run-task", "", false,
            new BasicProperties { ContentType = "application/json", DeliveryMode = DeliveryModes.Persistent, UserId = userId },
            Encoding.UTF8.GetBytes(JsonSerializer.Serialize(message)));
    }
}
