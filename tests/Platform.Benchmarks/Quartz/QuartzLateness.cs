using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Benchmarks.Infrastructure;
using Platform.Benchmarks.Measurements;
using Quartz;

namespace Platform.Benchmarks.Quartz;

/// <summary>
/// Measure 3 for Quartz.NET: its persistent AdoJobStore on the same PostgreSQL, in a schema of its own whose
/// tables Quartz creates itself (Quartz 4.7 validates its tables at start and its layout has grown beyond the
/// PostgreSQL script in the Quartz repository: retry_policy, qrtz_paused_job_grps, ...; its own
/// <see cref="SchemaProvisioning.CreateIfMissing"/> makes exactly what it expects). The same 1,000 crons as Platform's (<see cref="CronPlan"/>), at Quartz's default
/// settings but for a thread pool as large as Platform's task slots. Lateness of an occurrence: when its job
/// started executing minus its scheduled fire time, as Platform's is task accepted minus occurrence.
/// </summary>
public sealed class QuartzLateness(BenchmarkServers servers)
{
    private const string Schema = "quartz";

    /// <summary>Start of each execution minus its scheduled fire time, in ms, by scheduled fire time.</summary>
    internal static readonly ConcurrentBag<(DateTimeOffset Scheduled, double LatenessMs)> Firings = [];

    public async Task<LatenessResult> MeasureAsync(CronPlan plan)
    {
        await using (var database = servers.OpenDatabase())
        await using (var create = database.CreateCommand($"create schema if not exists {Schema}"))
            await create.ExecuteNonQueryAsync();

        var services = new ServiceCollection();
        services.AddQuartz(quartz =>
        {
            quartz.UseDefaultThreadPool(PlatformServices.Executors * PlatformServices.SlotsPerExecutor);
            quartz.UsePersistentStore(store =>
            {
                store.UsePostgres(servers.ConnectionString(20));
                store.UseSystemTextJsonSerializer();
                store.ConfigureStore(options =>
                {
                    options.TablePrefix = $"{Schema}.qrtz_";
                    options.SchemaProvisioning = SchemaProvisioning.CreateIfMissing;
                });
            });
        });
        await using var provider = services.BuildServiceProvider();
        var scheduler = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await scheduler.Start();
        try
        {
            for (var i = 0; i < plan.Schedules; i++)
            {
                var job = JobBuilder.Create<RecordLatenessJob>().WithIdentity($"job-{i:D4}").Build();
                var trigger = TriggerBuilder.Create().WithIdentity($"trigger-{i:D4}").ForJob(job)
                    .WithCronSchedule(plan.QuartzCron(i), cron => cron.InTimeZone(TimeZoneInfo.Utc)).Build();
                await scheduler.ScheduleJob(job, trigger);
            }
            var (from, to) = CronPlan.Window(TimeSpan.FromSeconds(5));
            Console.WriteLine($"  {plan.Schedules} Quartz triggers registered; measuring occurrences in [{from:HH:mm:ss}, {to:HH:mm:ss})");
            await Task.Delay(to - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10));
            var lateness = Firings.Where(f => f.Scheduled >= from && f.Scheduled < to).Select(f => f.LatenessMs).ToList();
            return new LatenessResult(new Distribution(lateness), plan.Schedules, $"{lateness.Count} of {plan.Schedules} occurrences in the window fired");
        }
        finally
        {
            await scheduler.Shutdown(waitForJobsToComplete: false);
        }
    }
}

/// <summary>The Quartz job: records how late it started, and does nothing else.</summary>
public sealed class RecordLatenessJob : IJob
{
    public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        if (context.ScheduledFireTimeUtc is { } scheduled) QuartzLateness.Firings.Add((scheduled, (now - scheduled).TotalMilliseconds));
        return ValueTask.CompletedTask;
    }
}
