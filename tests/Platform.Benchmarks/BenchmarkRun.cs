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
        if (options.Only is null or "platform" or "scaling")
        {
            await using var database = servers.OpenDatabase();
            await MeasurePlatformAsync(servers, database, logs, scalingOnly: options.Only == "scaling");
            // Platform's store (ten million events in a full run, three million of them just pruned) goes before
            // the peers run: PostgreSQL's autovacuum would otherwise spend their measurements cleaning it up.
            await servers.DropPlatformStoreAsync();
            // The executors' scratch directories of this run (each task's own is removed when it ends).
            var scratch = Path.Combine(Path.GetTempPath(), servers.Name);
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
        if (options.Only is null or "hangfire") await MeasureHangfireAsync(servers);
        if (options.Only is null or "quartz") await MeasureQuartzAsync(servers);
        AddLatenessRows();

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
        if (options.Scaling)
        {
            // The picture stands alone (its caption names the run), so a scaling run alone may draw it too.
            var caption = $"How cost grows (docs/benchmarks.md, measure 7): run of {machine.At:yyyy-MM-dd HH:mm} UTC, commit {machine.Commit}"
                + (options.Only == "scaling" ? ", eng/benchmark.sh --only=scaling" : "") + (options.Quick ? " --quick: small counts, not for comparison" : "")
                + $"\n{machine.Cores} cores; load average at the start {machine.LoadAverage.Split(' ')[0]}, the highest at a phase {_loads.Select(l => double.Parse(l.Split(' ')[^1], CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max():0.0}";
            var svg = ScalingChart.Svg(caption, _scaling.Panels());
            Directory.CreateDirectory(logs);
            await File.WriteAllTextAsync(Path.Combine(logs, "benchmarks-scaling.svg"), svg);
            if (!options.Quick && (options.WriteDocs || options.Only == "scaling"))
                await File.WriteAllTextAsync(Path.Combine(Repository.Root, "docs", "benchmarks-scaling.svg"), svg);
            Console.WriteLine($"scaling picture written to {logs}/benchmarks-scaling.svg" + (!options.Quick && (options.WriteDocs || options.Only == "scaling") ? " and docs/benchmarks-scaling.svg" : ""));
        }
        return 0;
    }

    private void Phase(string name)
    {
        _loads.Add($"{name} {Machine.CurrentLoad().Split(' ')[0]}");
        Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {name} (load {Machine.CurrentLoad()})");
    }

    /// <summary>
    /// Every Platform measure in order; with <paramref name="scalingOnly"/> only those the scaling rows need
    /// (sandboxed dispatch at 20/s, the dispatch series, both read-path sizes, both retention sizes, both
    /// lateness sizes), with a small no-op run in place of the throughput runs to copy tasks from.
    /// </summary>
    private async Task MeasurePlatformAsync(BenchmarkServers servers, Npgsql.NpgsqlDataSource database, string logs, bool scalingOnly)
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

        var sandboxed = await MeasureDispatchAsync(platform, dispatch, "bench-dispatch-sandboxed", sandboxed: true);
        _scaling.Sandboxed = sandboxed;

        ThroughputResult? sandboxedThroughput = null;
        if (!scalingOnly)
        {
            Phase("2. throughput, sandboxed");
            sandboxedThroughput = await throughput.MeasureAsync("bench-noop-sandboxed", options.SandboxedThroughputTasks, TimeSpan.FromSeconds(150));
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
        }

        Phase("replacing the executors with unsandboxed ones");
        await platform.ReplaceExecutorsAsync(sandboxed: false);

        await WarmUpAsync(platform, client, throughput, "bench-warm-up-unsandboxed");
        var unsandboxed = await MeasureDispatchAsync(platform, dispatch, "bench-dispatch", sandboxed: false);

        if (scalingOnly)
        {
            // Finished tasks to copy into the store: the full run has the throughput run's.
            await throughput.MeasureAsync("bench-noop", 300, TimeSpan.FromSeconds(60));
        }
        else
        {
            Phase("2. throughput, unsandboxed");
            var unsandboxedThroughput = await throughput.MeasureAsync("bench-noop", options.UnsandboxedThroughputTasks, TimeSpan.FromSeconds(150));
            _results.Note($"throughput, unsandboxed, {concurrency}: {unsandboxedThroughput}");
            _results.Note($"store work per no-op task, Platform: {unsandboxedThroughput.PerTaskTables}");
            _results.Note($"CPU per no-op task, Platform (unsandboxed): {unsandboxedThroughput.PerTaskCpu}");
            _results.Note($"statements per no-op task, Platform (pg_stat_statements, whole database, the benchmark's own polling included): {unsandboxedThroughput.PerTaskStatements}");
            _results.Add(new ResultRow($"Throughput, unsandboxed no-op tasks ({concurrency} / {HangfireComparison.Workers} Hangfire workers)", "tasks/s", true,
                Figure.Of(unsandboxedThroughput.TasksPerSecond), Target: 400));
            _results.Add(new ResultRow("Throughput, unsandboxed: Platform ÷ best Hangfire", "×", true, Figure.Missing("after Hangfire"), Target: 2.5));
            _results.Add(new ResultRow("Tasks lost in the throughput runs", "tasks", false, Figure.Of(sandboxedThroughput!.Lost + unsandboxedThroughput.Lost), Target: 0));
            _results.Add(new ResultRow("PostgreSQL transactions per no-op task (unsandboxed run)", "1", false, Figure.Of(unsandboxedThroughput.TransactionsPerTask)));
            _platformThroughput = unsandboxedThroughput.TasksPerSecond;
        }
        // After the throughput run, so that it follows the same work as Hangfire's (a warm-up, then dispatch at
        // 20/s), not the series' backlog of 1,800 tasks and what they leave PostgreSQL to vacuum.
        if (options.Scaling) await MeasureDispatchSeriesAsync(client, dispatch, unsandboxed);

        // The Scheduler is measured before the store grows: the seeding and the pruning of millions of rows leave
        // PostgreSQL's autovacuum minutes of work, which would run during these windows and time the vacuum.
        Phase("3. scheduler lateness (Platform)");
        var scheduler = new SchedulerLateness(client, servers);
        var lateness = await scheduler.MeasureAsync(new CronPlan(options.Schedules, options.ScheduleBurst));
        _results.Note($"scheduler lateness, Platform: {lateness.Detail}{(lateness.LatenessMs is { } l ? $": {l} ms" : "")}");
        _platformLateness = lateness;
        _scaling.Lateness.Add((options.Schedules, lateness.LatenessMs));
        _scaling.Firing = $"{options.Schedules:N0} firing every {CronPlan.PeriodSeconds} s, {options.ScheduleBurst} of them in one second";
        if (options.Scaling)
        {
            Phase($"7. scheduler lateness with {options.Schedules + options.IdleSchedules:N0} schedules (Platform)");
            var plan = new CronPlan(options.Schedules, options.ScheduleBurst, options.IdleSchedules);
            var large = await scheduler.MeasureAsync(plan);
            _results.Note($"scheduler lateness, Platform, {plan.Total:N0} schedules: {large.Detail}{(large.LatenessMs is { } m ? $": {m} ms" : "")}");
            _platformLatenessLarge = (plan, large);
            _scaling.Lateness.Add((plan.Total, large.LatenessMs));
        }

        Phase("stopping the Scheduler, and the fired tasks finishing (not measured)");
        await platform.StopSchedulerAsync();
        await scheduler.WaitForFiredTasksAsync(TimeSpan.FromSeconds(120));

        var seeder = new StoreSeeder(database);
        var templates = await seeder.FinishedTasksAsync("bench-noop", 1000);

        Phase("5. read path: seeding the store");
        var perTask = await EventsPerTaskAsync(client, "bench-noop");
        const int apps = 100;
        var readApps = Enumerable.Range(0, apps).Select(i => $"bench-read-{i:D2}").ToList();
        foreach (var app in readApps) await client.RegisterAppAsync(app, "true");
        var tasksPerApp = (int)Math.Max(0, (options.ReadPathEvents - await client.ScalarAsync("select count(*) from {schema}.mt_events")) / perTask / apps);
        // Seeding has a time budget: on a machine busy with other work it may not reach the target, and the
        // figure then names the number of events it was measured at.
        var seedClock = Stopwatch.StartNew();
        var (seeded, _) = await seeder.SeedManyAsync(templates, readApps, tasksPerApp, options.SeedingBudget);
        var events = await client.ScalarAsync("select count(*) from {schema}.mt_events");
        _results.Note($"read path: {events:N0} events in the store ({seeded} apps × {tasksPerApp:N0} copied finished tasks, seeded in {seedClock.Elapsed.TotalSeconds:0} s"
            + (seeded < apps ? $", stopped by the {options.SeedingBudget.TotalSeconds:0} s seeding budget)" : ")"));

        Phase("5. read path: vacuum and analyze after seeding (not measured)");
        await seeder.VacuumAsync();

        Phase("5. read path: listing");
        await MeasureListAsync(client, events, tasksPerApp, target: 3);

        Phase("4. retention");
        var pruning = new RetentionPruning(client, seeder, dispatch);
        var retentionEvents = await pruning.SeedAsync(templates, "bench-retention", options.RetentionTasks);
        var retention = await pruning.MeasureAsync("bench-retention", options.RetentionTasks, retentionEvents, "bench-dispatch", TimeSpan.FromSeconds(120));
        _results.Note($"retention: {retention.Detail}");
        _results.Add(new ResultRow($"Retention: time to prune {options.RetentionTasks:N0} finished tasks", "s", false, retention.Seconds));
        _results.Add(new ResultRow("Retention: events deleted per second", "events/s", true, retention.EventsPerSecond, Target: 50_000));
        _results.Add(new ResultRow("Retention: dispatch p99 (unsandboxed) while pruning", "ms", false, retention.DispatchP99Ms));
        _scaling.Retention.Add((options.RetentionTasks, retention.EventsPerSecond.Value ?? double.NaN));

        if (options.Scaling) await MeasureLargeStoreAsync(client, seeder, templates, pruning, readApps, perTask, tasksPerApp);

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
        // Both rows the sandbox is held to, dispatch and throughput, and the same two without it.
        var dispatchApp = sandboxed ? "bench-dispatch-sandboxed" : "bench-dispatch";
        await client.RegisterAppAsync(dispatchApp, ChildClock.Command);
        await MeasureDispatchAsync(platform, new DispatchLatency(client), dispatchApp, sandboxed);
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
        var before = await platform.JitCompiledMethodsAsync();
        var compiled = new List<string>();
        for (var round = 1; round <= options.WarmUpRounds; round++)
        {
            // An app per round: the throughput measure waits until its app has as many ended tasks as it sent,
            // so in one app shared by the rounds every round after the first returned at once, and the next
            // measure began behind up to 600 warm-up tasks still queued.
            var roundApp = $"{app}-{round}";
            await client.RegisterAppAsync(roundApp, ChildClock.Command);
            await throughput.MeasureAsync(roundApp, options.WarmUpTasks, TimeSpan.FromSeconds(Math.Max(60, options.WarmUpTasks / 5)));
            var after = await platform.JitCompiledMethodsAsync();
            var perTask = after - before is { } methods ? methods / (double)options.WarmUpTasks : (double?)null;
            compiled.Add(perTask?.ToString("0.0", CultureInfo.InvariantCulture) ?? "unknown");
            Console.WriteLine($"  warm-up round {round}: {options.WarmUpTasks} tasks, {(after - before)?.ToString() ?? "unknown"} methods compiled by the services' JIT ({compiled[^1]} per task)");
            before = after;
            if (perTask < SettledJitPerTask) break;
        }
        _results.Note($"warm-up before the {(platform.Sandboxed ? "sandboxed" : "unsandboxed")} measurements: rounds of {options.WarmUpTasks} tasks, " +
                      $"methods compiled by the JIT per task in each: {string.Join(", ", compiled)} (settled below {SettledJitPerTask})");
    }

    private const double SettledJitPerTask = 3.0;

    // A global retention limit far above anything seeded, so that only the app made for measure 4 is pruned.
    private static readonly Dictionary<string, string> NoPruning = new() { ["Retention__MaxTasksPerApp"] = "1000000" };

    private double _platformThroughput;
    private LatenessResult? _platformLateness;

    /// <summary>Measure 1 on the executors running now: its note, its rows and, sandboxed, the sandbox resources its tasks took.</summary>
    private async Task<DispatchResult> MeasureDispatchAsync(PlatformServices platform, DispatchLatency dispatch, string app, bool sandboxed)
    {
        var kind = sandboxed ? "sandboxed" : "unsandboxed";
        Phase($"1. dispatch latency, {kind}");
        var resources = sandboxed ? await platform.SandboxResourcesAsync() : null;
        var result = await dispatch.MeasureAsync(app, options.DispatchPerSecond, options.DispatchDuration, options.DispatchWarmUp);
        _results.Note($"dispatch, {kind}, {options.DispatchPerSecond}/s for {options.DispatchDuration.TotalSeconds} s ({options.DispatchWarmUp.TotalSeconds} s warm-up not counted): {result}");
        if (resources is not null)
            _results.Note($"sandbox resources the dispatch's tasks took (by origin): {PlatformServices.DescribeTaken(resources, await platform.SandboxResourcesAsync())}");
        AddLatencyRows($"Dispatch latency, {kind}", result.LatencyMs, sandboxed ? 15 : null, sandboxed ? 40 : null);
        return result;
    }

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
        _quartzLateness = await new QuartzLateness(servers).MeasureAsync(plan);
        _results.Note($"scheduler lateness, Quartz: {_quartzLateness.Detail}: {_quartzLateness.LatenessMs} ms");
    }

    /// <summary>The lateness rows, once both schedulers (or the one measured) have run: Platform's at both sizes, Quartz's beside the first.</summary>
    private void AddLatenessRows()
    {
        if (_platformLateness is null && _quartzLateness is null) return;
        static Figure Of(LatenessResult? result, Func<Distribution, double> pick, string missing) =>
            result?.LatenessMs is { } l ? Figure.Of(pick(l)) : Figure.Missing(result?.Detail ?? missing);
        var quartz = _quartzLateness;
        var schedules = $"{options.Schedules:N0} schedules, {options.ScheduleBurst} in one second";
        _results.Add(new ResultRow($"Scheduler lateness p50 ({schedules})", "ms", false, Of(_platformLateness, d => d.P50, "not measured"), Quartz: quartz is null ? default : Of(quartz, d => d.P50, "")));
        _results.Add(new ResultRow($"Scheduler lateness p99 ({schedules})", "ms", false, Of(_platformLateness, d => d.P99, "not measured"), Quartz: quartz is null ? default : Of(quartz, d => d.P99, ""), Target: 25));
        _results.Add(new ResultRow($"Scheduler lateness max ({schedules})", "ms", false, Of(_platformLateness, d => d.Max, "not measured"), Quartz: quartz is null ? default : Of(quartz, d => d.Max, ""), Target: 100));
        if (_platformLatenessLarge is not var (plan, large)) return;
        var label = $"{plan.Total:N0} schedules: {plan.Schedules:N0} firing, {plan.Burst} in one second, {plan.Idle:N0} idle";
        _results.Add(new ResultRow($"Scheduler lateness p50 ({label})", "ms", false, Of(large, d => d.P50, "not measured")));
        _results.Add(new ResultRow($"Scheduler lateness p99 ({label})", "ms", false, Of(large, d => d.P99, "not measured")));
        _results.Add(new ResultRow($"Scheduler lateness max ({label})", "ms", false, Of(large, d => d.Max, "not measured")));
    }

    private LatenessResult? _quartzLateness;
    private (CronPlan Plan, LatenessResult Result)? _platformLatenessLarge;
    private readonly ScalingFigures _scaling = new();

    /// <summary>Events the store holds per finished task of <paramref name="app"/> (what a seeded copy adds).</summary>
    private static async Task<double> EventsPerTaskAsync(PlatformClient client, string app)
    {
        var tasks = await client.ScalarAsync($"select count(*) from {{schema}}.mt_doc_apptask where app = '{app}'");
        var events = await client.ScalarAsync($"select count(*) from {{schema}}.mt_events e join {{schema}}.mt_doc_apptask t on t.id = e.stream_id where t.app = '{app}'");
        return Math.Max(1.0, events / (double)Math.Max(1, tasks));
    }

    /// <summary>
    /// Measure 5 at the store's present size: first that the list returns the app's tasks, seeded copies
    /// among them, as real tasks (<see cref="ReadPath.CheckListAsync"/>), then its latency.
    /// </summary>
    private async Task MeasureListAsync(PlatformClient client, long events, long tasksInApp, double? target)
    {
        var readPath = new ReadPath(client);
        var millions = (events / 1e6).ToString("0.00", CultureInfo.InvariantCulture);
        var problem = await readPath.CheckListAsync("bench-read-00");
        if (problem is not null)
        {
            _results.Note($"read path at {millions} M events NOT measured: the list does not return the seeded tasks as tasks: {problem}");
            _results.Add(new ResultRow($"List tasks p50 at {millions} M events", "ms", false, Figure.Missing("list wrong: " + problem), Target: target));
            _scaling.List.Add((events, null));
            return;
        }
        var list = await readPath.MeasureAsync("bench-read-00", options.ReadPathRequests);
        _results.Note($"GET /v3/apps/bench-read-00/tasks ({tasksInApp:N0} tasks in the app, first page; the page checked against the store first), one at a time, {millions} M events: {list} ms");
        _results.Add(new ResultRow($"List tasks p50 at {millions} M events", "ms", false, Figure.Of(list.P50), Target: target));
        _results.Add(new ResultRow($"List tasks p99 at {millions} M events", "ms", false, Figure.Of(list.P99)));
        _scaling.List.Add((events, list));
    }

    /// <summary>
    /// Measure 7 (how cost grows), dispatch: the unsandboxed dispatch of measure 1 again at each higher
    /// offered rate, and the first rate where the platform falls behind (<see cref="DispatchSaturation"/>).
    /// </summary>
    private async Task MeasureDispatchSeriesAsync(PlatformClient client, DispatchLatency dispatch, DispatchResult lowest)
    {
        var saturation = new DispatchSaturation(client, dispatch);
        var points = new List<RatePoint> { new(options.DispatchPerSecond, lowest, DispatchSaturation.KeptUp(lowest, lowest.LatencyMs.P99)) };
        foreach (var rate in options.DispatchRates)
        {
            Phase($"7. dispatch latency, unsandboxed, {rate} tasks/s offered");
            var point = await saturation.MeasureAsync(rate, options.DispatchSeriesDuration, options.DispatchSeriesWarmUp, lowest.LatencyMs.P99);
            _results.Note($"dispatch, unsandboxed, {rate}/s for {options.DispatchSeriesDuration.TotalSeconds} s ({options.DispatchSeriesWarmUp.TotalSeconds} s not counted): {point.Result}; {(point.KeptUp ? "kept up" : "fell behind")}");
            _results.Add(new ResultRow($"Dispatch latency, unsandboxed p50 at {rate} tasks/s offered", "ms", false, Figure.Of(point.Result.LatencyMs.P50)));
            _results.Add(new ResultRow($"Dispatch latency, unsandboxed p99 at {rate} tasks/s offered", "ms", false, Figure.Of(point.Result.LatencyMs.P99)));
            points.Add(point);
        }
        _scaling.Dispatch.AddRange(points);
        var behind = DispatchSaturation.FirstBehind(points);
        var top = options.DispatchRates.Append(options.DispatchPerSecond).Max();
        _results.Note($"dispatch saturation, unsandboxed (behind = processes started at under {DispatchSaturation.KeptUpShare:P0} of the offered rate, "
            + $"or p99 over {DispatchSaturation.P99Growth}× the p99 at {options.DispatchPerSecond}/s, or a task without a start): {DispatchSaturation.Describe(points)}");
        _results.Add(new ResultRow("Dispatch saturation, unsandboxed: lowest offered rate that fell behind", "tasks/s", true,
            behind is null ? Figure.Missing($"none up to {top}/s") : Figure.Of(behind.Offered)));
        _results.Add(new ResultRow("Dispatch saturation, unsandboxed: processes started per second there", "tasks/s", true,
            behind is null ? Figure.Missing($"none up to {top}/s") : Figure.Of(behind.Result.StartedPerSecond)));
    }

    /// <summary>
    /// Measure 7 (how cost grows), store: one app of a million finished tasks and the read apps grown until
    /// the store holds ten million events; the list at that size, then the large app pruned to its limit.
    /// Both share one seeding (the large app's events count towards the ten million), or the seeding alone
    /// would not fit the run's time.
    /// </summary>
    private async Task MeasureLargeStoreAsync(PlatformClient client, StoreSeeder seeder, IReadOnlyList<Guid> templates, RetentionPruning pruning,
        IReadOnlyList<string> readApps, double perTask, long tasksPerApp)
    {
        const string large = "bench-retention-large";
        Phase($"7. seeding {options.RetentionTasksLarge:N0} finished tasks of one app, and the store up to {options.ReadPathEventsLarge / 1e6:0.#} M events");
        var clock = Stopwatch.StartNew();
        await client.RegisterAppAsync(large, "true");
        // In parts, two side by side (one transaction of a million tasks would keep one core busy alone).
        var part = Math.Min(50_000, options.RetentionTasksLarge);
        var parts = Enumerable.Repeat(large, options.RetentionTasksLarge / part).ToList();
        var (seededParts, largeEvents) = await seeder.SeedManyAsync(templates, parts, part, options.LargeSeedingBudget);
        var largeTasks = seededParts * part;
        var eventsNow = await client.ScalarAsync("select count(*) from {schema}.mt_events");
        var more = (int)Math.Max(0, (options.ReadPathEventsLarge - eventsNow) / perTask / readApps.Count);
        var (grown, _) = await seeder.SeedManyAsync(templates, readApps, more, options.LargeSeedingBudget - clock.Elapsed);
        var events = await client.ScalarAsync("select count(*) from {schema}.mt_events");
        _results.Note($"store at scale: {events:N0} events ({largeTasks:N0} finished tasks in {large}, {largeEvents:N0} events; {grown} of {readApps.Count} read apps grown by {more:N0} tasks each), "
            + $"seeded in {clock.Elapsed.TotalSeconds:0} s" + (largeTasks < options.RetentionTasksLarge || grown < readApps.Count ? $", stopped by the {options.LargeSeedingBudget.TotalSeconds:0} s budget" : ""));

        Phase("7. vacuum and analyze after seeding (not measured)");
        var vacuum = Stopwatch.StartNew();
        await seeder.VacuumAsync();
        _results.Note($"vacuum and analyze at {events / 1e6:0.0} M events: {vacuum.Elapsed.TotalSeconds:0} s");

        Phase("7. read path: listing at scale");
        await MeasureListAsync(client, events, tasksPerApp + (grown > 0 ? more : 0), target: null);

        Phase($"7. retention of {largeTasks:N0} finished tasks");
        var retention = await pruning.MeasureAsync(large, largeTasks, largeEvents, "bench-dispatch", TimeSpan.FromSeconds(300));
        _results.Note($"retention at scale: {retention.Detail}");
        _results.Add(new ResultRow($"Retention: time to prune {largeTasks:N0} finished tasks", "s", false, retention.Seconds));
        _results.Add(new ResultRow($"Retention: events deleted per second ({largeTasks:N0} tasks)", "events/s", true, retention.EventsPerSecond));
        _results.Add(new ResultRow($"Retention: dispatch p99 (unsandboxed) while pruning {largeTasks:N0} tasks", "ms", false, retention.DispatchP99Ms));
        _scaling.Retention.Add((largeTasks, retention.EventsPerSecond.Value ?? double.NaN));
    }
}
