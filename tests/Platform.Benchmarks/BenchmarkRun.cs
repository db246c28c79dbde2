using System.Diagnostics;
using System.Globalization;
using Platform.Benchmarks.Hangfire;
using Platform.Benchmarks.Infrastructure;
using Platform.Benchmarks.Measurements;
using Platform.Benchmarks.Quartz;

namespace Platform.Benchmarks;

/// <summary>
/// The whole comparison in order: Platform first (sandboxed, then unsandboxed executors), then Hangfire
/// (default, then fastest polling), then Quartz, each alone on the machine's PostgreSQL while it is measured,
/// so that one system's idle polling is not counted against another. Prints the table and writes the page.
/// </summary>
public sealed class BenchmarkRun(BenchmarkOptions options)
{
    private readonly ResultsTable _results = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<string> _loads = [];

    public async Task<int> RunAsync()
    {
        var machine = Machine.Describe();
        Console.WriteLine($"Platform benchmark: {machine.Cores} cores, {machine.MemoryGiB:0.0} GiB, load {machine.LoadAverage}, commit {machine.Commit}{(options.Quick ? " (--quick: small counts)" : "")}");
        await using var servers = await BenchmarkServers.CreateAsync();
        var logs = Path.Combine(Repository.Root, ".bench", servers.Name);
        Console.WriteLine($"database and virtual host {servers.Name}; service logs in {logs}");

        if (options.Only is "throughput" or "throughput-sandboxed" or "lateness" or "read")
        {
            await using var database = servers.OpenDatabase();
            await MeasureOneAsync(servers, database, logs, options.Only);
        }
        if (options.Only is null or "platform")
        {
            await using var database = servers.OpenDatabase();
            await MeasurePlatformAsync(servers, database, logs);
            // The executors' scratch directories of this run (each task's own is removed when it ends).
            var scratch = Path.Combine(Path.GetTempPath(), servers.Name);
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
        if (options.Only is null or "hangfire") await MeasureHangfireAsync(servers);
        if (options.Only is null or "quartz") await MeasureQuartzAsync(servers);

        Console.WriteLine();
        Console.WriteLine(_results.ToText());
        foreach (var note in _results.Notes) Console.WriteLine("- " + note);
        Console.WriteLine($"load averages during the run: {string.Join("; ", _loads)}");
        Console.WriteLine($"whole run: {_clock.Elapsed.TotalMinutes:0.0} min");
        if (options.WriteDocs)
        {
            var page = BenchmarkPage.Write(machine, _results, _loads, _clock.Elapsed, options);
            Console.WriteLine($"wrote {page}");
        }
        return 0;
    }

    private void Phase(string name)
    {
        _loads.Add($"{name} {Machine.CurrentLoad().Split(' ')[0]}");
        Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {name} (load {Machine.CurrentLoad()})");
    }

    private async Task MeasurePlatformAsync(BenchmarkServers servers, Npgsql.NpgsqlDataSource database, string logs)
    {
        Phase("starting Platform: Api, 2 sandboxed Executors, Scheduler, Retention");
        await using var platform = await PlatformServices.StartAsync(servers, logs, NoPruning);
        using var client = new PlatformClient(platform.ApiAddress, database, platform.AdminToken);
        var dispatch = new DispatchLatency(client);
        var throughput = new Throughput(client, servers);
        var concurrency = $"{PlatformServices.Executors} executors × {PlatformServices.SlotsPerExecutor} slots";
        foreach (var (app, command) in new[] { ("bench-dispatch-sandboxed", ChildClock.Command), ("bench-dispatch", ChildClock.Command), ("bench-noop-sandboxed", "true"), ("bench-noop", "true") })
            await client.RegisterAppAsync(app, command);

        Phase("warming up (not measured)");
        await WarmUpAsync(platform, client, throughput, "bench-warm-up");

        Phase("1. dispatch latency, sandboxed");
        var sandboxed = await dispatch.MeasureAsync("bench-dispatch-sandboxed", options.DispatchPerSecond, options.DispatchDuration, options.DispatchWarmUp);
        _results.Note($"dispatch, sandboxed, {options.DispatchPerSecond}/s for {options.DispatchDuration.TotalSeconds} s ({options.DispatchWarmUp.TotalSeconds} s warm-up not counted): {sandboxed}");
        AddLatencyRows("Dispatch latency, sandboxed", sandboxed.LatencyMs, p50Target: 15, p99Target: 40);

        Phase("2. throughput, sandboxed");
        var sandboxedThroughput = await throughput.MeasureAsync("bench-noop-sandboxed", options.SandboxedThroughputTasks, TimeSpan.FromSeconds(150));
        _results.Note($"throughput, sandboxed, {concurrency}: {sandboxedThroughput}");
        _results.Note($"CPU per no-op task, Platform (sandboxed): {sandboxedThroughput.PerTaskCpu}");
        _results.Add(new ResultRow($"Throughput, sandboxed no-op tasks ({concurrency})", "tasks/s", true, Figure.Of(sandboxedThroughput.TasksPerSecond), Target: 150));

        Phase("6. idle cost");
        var idleCost = new IdleCost(servers);
        var idle = await idleCost.StatementsPerSecondAsync(TimeSpan.FromSeconds(10));
        _results.Note($"idle, Platform: {idle:0.0} transactions/s; statements seen (sampled, lower bounds): {idleCost.DescribeSources(8)}");
        _results.Add(new ResultRow("Idle: PostgreSQL transactions/s, whole platform (5 processes)", "1/s", false, Figure.Of(idle), Target: 10));
        foreach (var (service, mib) in platform.ResidentMemory())
            _results.Add(new ResultRow($"Memory (VmRSS) of {service}, after load", "MiB", false, Figure.Of(mib)));

        Phase("replacing the executors with unsandboxed ones");
        await platform.ReplaceExecutorsAsync(sandboxed: false);

        await WarmUpAsync(platform, client, throughput, "bench-warm-up-unsandboxed");
        Phase("1. dispatch latency, unsandboxed");
        var unsandboxed = await dispatch.MeasureAsync("bench-dispatch", options.DispatchPerSecond, options.DispatchDuration, options.DispatchWarmUp);
        _results.Note($"dispatch, unsandboxed: {unsandboxed}");
        AddLatencyRows("Dispatch latency, unsandboxed", unsandboxed.LatencyMs, null, null);

        Phase("2. throughput, unsandboxed");
        var unsandboxedThroughput = await throughput.MeasureAsync("bench-noop", options.UnsandboxedThroughputTasks, TimeSpan.FromSeconds(150));
        _results.Note($"throughput, unsandboxed, {concurrency}: {unsandboxedThroughput}");
        _results.Note($"store work per no-op task, Platform: {unsandboxedThroughput.PerTaskTables}");
        _results.Note($"CPU per no-op task, Platform (unsandboxed): {unsandboxedThroughput.PerTaskCpu}");
        _results.Note($"statements per no-op task, Platform (pg_stat_statements, whole database, the benchmark's own polling included): {unsandboxedThroughput.PerTaskStatements}");
        _results.Add(new ResultRow($"Throughput, unsandboxed no-op tasks ({concurrency} / {HangfireComparison.Workers} Hangfire workers)", "tasks/s", true,
            Figure.Of(unsandboxedThroughput.TasksPerSecond), Target: 400));
        _results.Add(new ResultRow("Throughput, unsandboxed: Platform ÷ best Hangfire", "×", true, Figure.Missing("after Hangfire"), Target: 2.5));
        _results.Add(new ResultRow("Tasks lost in the throughput runs", "tasks", false, Figure.Of(sandboxedThroughput.Lost + unsandboxedThroughput.Lost), Target: 0));
        _results.Add(new ResultRow("PostgreSQL transactions per no-op task (unsandboxed run)", "1", false, Figure.Of(unsandboxedThroughput.TransactionsPerTask)));
        _platformThroughput = unsandboxedThroughput.TasksPerSecond;

        var seeder = new StoreSeeder(database);
        var templates = await seeder.FinishedTasksAsync("bench-noop", 1000);

        Phase("5. read path: seeding the store");
        var eventsNow = await client.ScalarAsync("select count(*) from {schema}.mt_events");
        var perTask = Math.Max(1.0, await client.ScalarAsync(
            "select count(*) from {schema}.mt_events e join {schema}.mt_doc_apptask t on t.id = e.stream_id where t.data ->> 'App' = 'bench-noop'") / (double)options.UnsandboxedThroughputTasks);
        const int apps = 100;
        var tasksPerApp = (int)Math.Max(0, (options.ReadPathEvents - eventsNow) / perTask / apps);
        // Seeding has a time budget: on a machine busy with other work it may not reach the target, and the
        // figure then names the number of events it was measured at.
        var seedClock = Stopwatch.StartNew();
        var seeded = 0;
        while (seeded < apps && seedClock.Elapsed < options.SeedingBudget)
        {
            var app = $"bench-read-{seeded++:D2}";
            await client.RegisterAppAsync(app, "true");
            await seeder.SeedAsync(templates, app, tasksPerApp);
        }
        var events = await client.ScalarAsync("select count(*) from {schema}.mt_events");
        _results.Note($"read path: {events:N0} events in the store ({seeded} apps × {tasksPerApp:N0} copied finished tasks, seeded in {seedClock.Elapsed.TotalSeconds:0} s"
            + (seeded < apps ? $", stopped by the {options.SeedingBudget.TotalSeconds:0} s seeding budget)" : ")"));

        Phase("5. read path: vacuum and analyze after seeding (not measured)");
        await seeder.VacuumAsync();

        Phase("5. read path: listing");
        var list = await new ReadPath(client).MeasureAsync("bench-read-00", options.ReadPathRequests);
        _results.Note($"GET /v3/apps/bench-read-00/tasks ({tasksPerApp:N0} tasks in the app, first page), one at a time: {list} ms");
        var millions = (events / 1e6).ToString("0.00", CultureInfo.InvariantCulture);
        _results.Add(new ResultRow($"List tasks p50 at {millions} M events", "ms", false, Figure.Of(list.P50), Target: 3));
        _results.Add(new ResultRow($"List tasks p99 at {millions} M events", "ms", false, Figure.Of(list.P99)));

        Phase("4. retention");
        var retention = await new RetentionPruning(client, seeder, dispatch).MeasureAsync(templates, options.RetentionTasks, "bench-dispatch", TimeSpan.FromSeconds(120));
        _results.Note($"retention: {retention.Detail}");
        _results.Add(new ResultRow($"Retention: time to prune {options.RetentionTasks:N0} finished tasks", "s", false, retention.Seconds));
        _results.Add(new ResultRow("Retention: events deleted per second", "events/s", true, retention.EventsPerSecond, Target: 50_000));
        _results.Add(new ResultRow("Retention: dispatch p99 (unsandboxed) while pruning", "ms", false, retention.DispatchP99Ms));

        Phase("3. scheduler lateness (Platform)");
        var lateness = await new SchedulerLateness(client, servers).MeasureAsync(new CronPlan(options.Schedules, options.ScheduleBurst));
        _results.Note($"scheduler lateness, Platform: {lateness.Detail}{(lateness.LatenessMs is { } l ? $": {l} ms" : "")}");
        _platformLateness = lateness;
        Phase("stopping Platform");
    }

    /// <summary>
    /// For working on one path: a throughput run alone, with its statement and CPU profile
    /// (<c>--only=throughput</c>, <c>--only=throughput-sandboxed</c>), or the Scheduler's lateness alone
    /// (<c>--only=lateness</c>); a minute or two each.
    /// </summary>
    private async Task MeasureOneAsync(BenchmarkServers servers, Npgsql.NpgsqlDataSource database, string logs, string measure)
    {
        var sandboxed = measure == "throughput-sandboxed";
        Phase($"starting Platform with {(sandboxed ? "sandboxed" : "unsandboxed")} executors");
        await using var platform = await PlatformServices.StartAsync(servers, logs, NoPruning, sandboxed);
        using var client = new PlatformClient(platform.ApiAddress, database, platform.AdminToken);
        if (measure == "read")
        {
            // One app the size of the full run's (3,300 finished tasks), without the other 99.
            await client.RegisterAppAsync("bench-noop", "true");
            await new Throughput(client, servers).MeasureAsync("bench-noop", 300, TimeSpan.FromSeconds(60));
            var seeder = new StoreSeeder(database);
            await client.RegisterAppAsync("bench-read-00", "true");
            await seeder.SeedAsync(await seeder.FinishedTasksAsync("bench-noop", 300), "bench-read-00", 3_300);
            await seeder.VacuumAsync();
            var statements = await StatementProfile.StartAsync(servers);
            // Ten times the full run's requests: long enough to attach a profiler to the Api.
            var list = await new ReadPath(client).MeasureAsync("bench-read-00", options.ReadPathRequests * 10);
            _results.Note($"GET /v3/apps/bench-read-00/tasks (3,300 tasks in the app, first page), one at a time: {list} ms");
            if (statements is not null) _results.Note("statements per request: " + (await statements.DescribeAsync(options.ReadPathRequests * 10 + 10)).Replace("per task", "per request").Replace("/task", "/req"));
            foreach (var path in (string[])["/v3/apps/bench-read-00/tasks?per_page=1", "/v3/apps/bench-read-00", "/healthz"])
                _results.Note($"GET {path}: {await new ReadPath(client).MeasurePathAsync(path, options.ReadPathRequests)} ms");
            return;
        }
        if (measure == "lateness")
        {
            var lateness = await new SchedulerLateness(client, servers).MeasureAsync(new CronPlan(options.Schedules, options.ScheduleBurst));
            _results.Note($"scheduler lateness, Platform: {lateness.Detail}{(lateness.LatenessMs is { } l ? $": {l} ms" : "")}");
            return;
        }
        await client.RegisterAppAsync("bench-noop", "true");
        var throughput = new Throughput(client, servers);
        Phase("warming up (not measured)");
        await WarmUpAsync(platform, client, throughput, "bench-warm-up");
        if (sandboxed)
        {
            // The sandbox's cost shows in both rows the isolation work is held to: dispatch and throughput.
            Phase("1. dispatch latency, sandboxed");
            await client.RegisterAppAsync("bench-dispatch-sandboxed", ChildClock.Command);
            var dispatch = await new DispatchLatency(client).MeasureAsync("bench-dispatch-sandboxed", options.DispatchPerSecond, options.DispatchDuration, options.DispatchWarmUp);
            _results.Note($"dispatch, sandboxed, {options.DispatchPerSecond}/s for {options.DispatchDuration.TotalSeconds} s: {dispatch}");
            AddLatencyRows("Dispatch latency, sandboxed", dispatch.LatencyMs, p50Target: 15, p99Target: 40);
        }
        Phase($"2. throughput, {(sandboxed ? "sandboxed" : "unsandboxed")}");
        var result = await throughput.MeasureAsync("bench-noop", sandboxed ? options.SandboxedThroughputTasks : options.UnsandboxedThroughputTasks, TimeSpan.FromSeconds(150));
        _results.Note($"throughput, {(sandboxed ? "sandboxed" : "unsandboxed")}: {result}");
        _results.Note($"store work per no-op task: {result.PerTaskTables}");
        _results.Note($"statements per no-op task: {result.PerTaskStatements}");
        _results.Note($"CPU per no-op task: {result.PerTaskCpu}");
        _results.Add(new ResultRow($"Throughput, {(sandboxed ? "sandboxed" : "unsandboxed")} no-op tasks", "tasks/s", true, Figure.Of(result.TasksPerSecond), Target: sandboxed ? 150 : 400));
        _results.Note("memory (VmRSS) after the load: " + string.Join(", ", platform.ResidentMemory().Select(m => $"{m.Service} {m.MiB:0} MiB")));
    }

    /// <summary>
    /// Freshly started services run unoptimised (tier-0) code, and the runtime recompiles the busy methods
    /// optimised in the background for minutes: tens of thousands of methods per service, most of a core,
    /// which a measurement taken meanwhile would count as the platform's cost. So tasks run in rounds, not
    /// measured, until a round makes the JIT compile fewer than <see cref="SettledJitPerTask"/> methods per
    /// task (or <see cref="BenchmarkOptions.WarmUpRounds"/> have run). The tasks print a line, as the
    /// dispatch tasks do, so that storing output is warmed too.
    /// </summary>
    private async Task WarmUpAsync(PlatformServices platform, PlatformClient client, Throughput throughput, string app)
    {
        await client.RegisterAppAsync(app, ChildClock.Command);
        var before = await platform.JitCompiledMethodsAsync();
        var compiled = new List<string>();
        for (var round = 1; round <= options.WarmUpRounds; round++)
        {
            await throughput.MeasureAsync(app, options.WarmUpTasks, TimeSpan.FromSeconds(Math.Max(60, options.WarmUpTasks / 5)));
            var after = await platform.JitCompiledMethodsAsync();
            var perTask = (after - before) / (double)options.WarmUpTasks;
            compiled.Add(perTask.ToString("0.0", CultureInfo.InvariantCulture));
            Console.WriteLine($"  warm-up round {round}: {options.WarmUpTasks} tasks, {after - before} methods compiled by the services' JIT ({perTask:0.0} per task)");
            before = after;
            if (perTask < SettledJitPerTask) break;
        }
        _results.Note($"warm-up before the {(platform.Sandboxed ? "sandboxed" : "unsandboxed")} measurements: rounds of {options.WarmUpTasks} tasks, " +
                      $"methods compiled by the JIT per task in each: {string.Join(", ", compiled)} (settled below {SettledJitPerTask})");
    }

    private const double SettledJitPerTask = 1.0;

    // A global retention limit far above anything seeded, so that only the app made for measure 4 is pruned.
    private static readonly Dictionary<string, string> NoPruning = new() { ["Retention__MaxTasksPerApp"] = "1000000" };

    private double _platformThroughput;
    private LatenessResult? _platformLateness;

    private void AddLatencyRows(string metric, Distribution latency, double? p50Target, double? p99Target)
    {
        _results.Add(new ResultRow($"{metric} p50", "ms", false, Figure.Of(latency.P50), Target: p50Target));
        _results.Add(new ResultRow($"{metric} p90", "ms", false, Figure.Of(latency.P90)));
        _results.Add(new ResultRow($"{metric} p99", "ms", false, Figure.Of(latency.P99), Target: p99Target));
        _results.Add(new ResultRow($"{metric} max", "ms", false, Figure.Of(latency.Max)));
    }

    private async Task MeasureHangfireAsync(BenchmarkServers servers)
    {
        var hangfire = new HangfireComparison(servers);
        var results = new List<HangfireResult>();
        foreach (var (setting, storage) in new[] { ("default", HangfireComparison.Defaults()), ("fast polling", HangfireComparison.FastPolling()) })
        {
            Phase($"Hangfire ({setting}: queue poll {storage.QueuePollInterval.TotalMilliseconds} ms, long polling {storage.EnableLongPolling}, {HangfireComparison.Workers} workers)");
            var result = await hangfire.MeasureAsync(setting, storage, options.DispatchPerSecond, options.DispatchDuration, options.DispatchWarmUp,
                options.UnsandboxedThroughputTasks, TimeSpan.FromSeconds(150));
            _results.Note($"Hangfire {setting}: dispatch {result.Dispatch}; throughput {result.Throughput}; idle {result.IdleStatementsPerSecond:0.0} transactions/s ({result.IdleSources})");
            results.Add(result);
        }
        var (byDefault, fast) = (results[0], results[1]);
        void Set(string metric, Func<HangfireResult, double> figure) => _results.SetPeer(metric, row => row with
        {
            HangfireDefault = Figure.Of(figure(byDefault)), HangfireFast = Figure.Of(figure(fast)),
        });
        Set("Dispatch latency, unsandboxed p50", r => r.Dispatch.LatencyMs.P50);
        Set("Dispatch latency, unsandboxed p90", r => r.Dispatch.LatencyMs.P90);
        Set("Dispatch latency, unsandboxed p99", r => r.Dispatch.LatencyMs.P99);
        Set("Dispatch latency, unsandboxed max", r => r.Dispatch.LatencyMs.Max);
        Set($"Throughput, unsandboxed no-op tasks ({PlatformServices.Executors} executors × {PlatformServices.SlotsPerExecutor} slots / {HangfireComparison.Workers} Hangfire workers)", r => r.Throughput.TasksPerSecond);
        Set("PostgreSQL transactions per no-op task (unsandboxed run)", r => r.Throughput.TransactionsPerTask);
        Set("Idle: PostgreSQL transactions/s, whole platform (5 processes)", r => r.IdleStatementsPerSecond);
        _results.SetPeer("Tasks lost in the throughput runs", row => row with
        {
            HangfireDefault = Figure.Of(byDefault.Throughput.Lost), HangfireFast = Figure.Of(fast.Throughput.Lost),
        });
        var bestHangfire = Math.Max(byDefault.Throughput.TasksPerSecond, fast.Throughput.TasksPerSecond);
        if (_platformThroughput > 0) _results.SetPeer("Throughput, unsandboxed: Platform ÷ best Hangfire", row => row with { Platform = Figure.Of(_platformThroughput / bestHangfire) });
    }

    private async Task MeasureQuartzAsync(BenchmarkServers servers)
    {
        Phase("3. scheduler lateness (Quartz)");
        var plan = new CronPlan(options.Schedules, options.ScheduleBurst);
        var quartz = await new QuartzLateness(servers).MeasureAsync(plan);
        _results.Note($"scheduler lateness, Quartz: {quartz.Detail}: {quartz.LatenessMs} ms");
        var platform = _platformLateness;
        Figure PlatformFigure(Func<Distribution, double> pick) =>
            platform?.LatenessMs is { } l ? Figure.Of(pick(l)) : Figure.Missing(platform?.Detail ?? "not measured");
        var schedules = $"{plan.Schedules:N0} schedules, {plan.Burst} in one second";
        _results.Add(new ResultRow($"Scheduler lateness p50 ({schedules})", "ms", false, PlatformFigure(d => d.P50), Quartz: Figure.Of(quartz.LatenessMs!.P50)));
        _results.Add(new ResultRow($"Scheduler lateness p99 ({schedules})", "ms", false, PlatformFigure(d => d.P99), Quartz: Figure.Of(quartz.LatenessMs.P99), Target: 25));
        _results.Add(new ResultRow($"Scheduler lateness max ({schedules})", "ms", false, PlatformFigure(d => d.Max), Quartz: Figure.Of(quartz.LatenessMs.Max), Target: 100));
    }
}
