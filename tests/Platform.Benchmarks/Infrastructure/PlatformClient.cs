using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace Platform.Benchmarks.Infrastructure;

/// <summary>A task the benchmark asked for: its id and when the request was sent (the "run this" moment).</summary>
public sealed record SubmittedTask(Guid Id, DateTimeOffset RequestedAt);

/// <summary>
/// What a benchmark does with Platform: its public HTTP API, and reads of its store to observe outcomes.
/// The reads filter on the read model's indexed <c>app</c> column: with millions of tasks in the store, a
/// filter on the JSON read every document, several times a second while a measure waited.
/// </summary>
public sealed class PlatformClient(Uri api, NpgsqlDataSource database, string token) : IDisposable
{
    private const string Schema = "platform";

    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
    {
        BaseAddress = api, Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestHeaders = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token) },
    };

    public HttpClient Http => _http;
    public NpgsqlDataSource Database => database;

    /// <summary>Registers an app; small limits, since the sandbox's scratch tmpfs and cgroup are made per task.</summary>
    public async Task RegisterAppAsync(string name, string command)
    {
        var body = new Dictionary<string, object?> { ["name"] = name, ["command"] = command, ["memory_in_mb"] = 64, ["disk_in_mb"] = 8 };
        var response = await _http.PostAsJsonAsync("/v3/apps", body);
        if ((int)response.StatusCode != 201)
            throw new InvalidOperationException($"register app {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>PATCHes an app's settings and returns the app as the Api answered it.</summary>
    public async Task<JsonNode?> UpdateAppAsync(string name, object change)
    {
        using var response = await _http.PatchAsJsonAsync($"/v3/apps/{name}", change);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"update app {name}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text);
    }

    /// <summary>POSTs a task (the app's command) and returns it with the moment the request was sent.</summary>
    public async Task<SubmittedTask> RunTaskAsync(string app)
    {
        var requestedAt = DateTimeOffset.UtcNow;
        using var response = await _http.PostAsJsonAsync($"/v3/apps/{app}/tasks", new { });
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 202) throw new InvalidOperationException($"run task: {(int)response.StatusCode} {text}");
        return new SubmittedTask(JsonNode.Parse(text)!["guid"]!.GetValue<Guid>(), requestedAt);
    }

    /// <summary>Counts of an app's tasks by state, straight from the read model.</summary>
    public async Task<(long Total, long Succeeded, long Failed)> CountAsync(string app)
    {
        await using var command = database.CreateCommand(
            $"""
             select count(*), count(*) filter (where data ->> 'State' = 'Succeeded'), count(*) filter (where data ->> 'State' = 'Failed')
             from {Schema}.mt_doc_apptask where app = $1
             """);
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>Waits until <paramref name="expected"/> tasks of the app have ended, or the deadline passes.</summary>
    public async Task<(long Succeeded, long Failed)> WaitForEndsAsync(string app, long expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var (_, succeeded, failed) = await CountAsync(app);
            if (succeeded + failed >= expected || DateTime.UtcNow > deadline) return (succeeded, failed);
            await Task.Delay(100);
        }
    }

    /// <summary>When the last of an app's tasks ended (the executor's recorded end time).</summary>
    public async Task<DateTimeOffset> LastEndAsync(string app)
    {
        await using var command = database.CreateCommand(
            $"select max((data ->> 'EndedAt')::timestamptz) from {Schema}.mt_doc_apptask where app = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = app });
        return (DateTime)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The first line each task printed, by task id.</summary>
    public async Task<Dictionary<Guid, string>> FirstLinesAsync(IReadOnlyCollection<Guid> tasks)
    {
        await using var command = database.CreateCommand($"select task_id, line from {Schema}.task_logs where task_id = any($1) and seq = 1");
        command.Parameters.Add(new NpgsqlParameter { Value = tasks.ToArray() });
        var lines = new Dictionary<Guid, string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) lines[reader.GetGuid(0)] = reader.GetString(1);
        return lines;
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var command = database.CreateCommand(sql.Replace("{schema}", Schema));
        command.CommandTimeout = 600;
        return Convert.ToInt64(await command.ExecuteScalarAsync());
    }

    public void Dispose() => _http.Dispose();
}
