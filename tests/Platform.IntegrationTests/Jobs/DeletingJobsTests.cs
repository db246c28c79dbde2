using System.Net;
using Npgsql;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Jobs;

[Collection(PlatformCollection.Name)]
public sealed class DeletingJobsTests(PlatformFixture platform)
{
    [Fact]
    public async Task Deleting_a_job_terminates_its_running_tasks_then_removes_all_its_tasks_and_logs_and_nothing_fires_again()
    {
        var app = await platform.RegisterAppAsync();
        var marker = "marker-" + Guid.NewGuid().ToString("N");
        var job = await platform.CreateJobAsync(app, command: $"echo started; sleep 120; : {marker}");
        var other = await platform.RunTaskAsync(app, new { command = "echo not of the job" });
        await platform.AddScheduleAsync(job, "*/2 * * * * *");
        var running = await platform.EventuallyAsync(() => platform.JobTasksAsync(job),
            t => t.Count(task => task.State() == "RUNNING") >= 2, TimeSpan.FromSeconds(60), "two running tasks of the job");
        var ids = running.Select(t => t["guid"]!.GetValue<Guid>()).ToList();
        await platform.EventuallyAsync(() => platform.GetLogsAsync(ids[^1]), l => l.Count > 0, TimeSpan.FromSeconds(30), "output of the job's task");

        var response = await platform.Api.DeleteAsync($"/v3/jobs/{job}");

        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync($"/v3/jobs/{job}")).StatusCode);
        foreach (var id in ids) Assert.Equal(HttpStatusCode.NotFound, (await platform.Api.GetAsync($"/v3/tasks/{id}")).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.Equal(0, await CountAsync($"select count(*) from {platform.Isolation}.mt_doc_apptask where data ->> 'Job' = $1", job));
        Assert.Equal(0, await CountAsync($"select count(*) from {platform.Isolation}.mt_streams where id = any($1)", ids.ToArray()));
        Assert.Equal(0, await CountAsync($"select count(*) from {platform.Isolation}.task_logs where task_id = any($1)", ids.ToArray()));
        Assert.Equal(0, await CountAsync($"select count(*) from {platform.Isolation}.mt_doc_jobschedule where data ->> 'Job' = $1", job));
        Assert.Equal(0, await CountAsync($"select count(*) from {platform.Isolation}.mt_doc_joboccurrence where data ->> 'Job' = $1", job));
        // The task processes are gone: no shell running the job's command is left on this machine.
        var left = ProcessesWith(marker);
        Assert.True(left.Count == 0, "still running: " + string.Join("\n", left.Select(p => $"{p}: {ReadCommandLine($"/proc/{p}").Replace('\0', ' ')}")));
        // The app's other task is untouched, and no task of the job came back (a RunTask still queued for a
        // task cancelled while pending must not recreate it).
        Assert.Equal("SUCCEEDED", (await platform.WaitForEndAsync(other))["state"]!.GetValue<string>());
        var appTasks = System.Text.Json.Nodes.JsonNode.Parse(await platform.Api.GetStringAsync($"/v3/apps/{app}/tasks"))!["resources"]!.AsArray();
        Assert.Equal([other], appTasks.Select(t => t!["guid"]!.GetValue<Guid>()));
    }

    private static List<int> ProcessesWith(string text) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => (Pid: int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0, Dir: d))
            .Where(p => p.Pid > 0 && ReadCommandLine(p.Dir).Contains(text))
            .Select(p => p.Pid)
            .ToList();

    private static string ReadCommandLine(string processDirectory)
    {
        try
        {
            return File.ReadAllText(Path.Combine(processDirectory, "cmdline"));
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private async Task<long> CountAsync(string sql, object parameter)
    {
        await using var database = platform.OpenDatabase();
        await using var command = database.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
