using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Sandboxing;

/// <summary>
/// Each test is a hostile task: it tries to cross one boundary of the sandbox (ARCHITECTURE.md, "Threat
/// model") through the API, as any user could, and asserts that it fails. The executors here run with the
/// default sandbox on this host (root, cgroup v1, bubblewrap, libseccomp, slirp4netns, nftables).
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class HostileTaskTests(PlatformFixture platform)
{
    private async Task<(JsonNode Task, List<string> Lines)> RunAsync(string command, object? app = null, TimeSpan? timeout = null)
    {
        var name = await RegisterAsync(app);
        var id = await platform.RunTaskAsync(name, new { command = $"bash -c {Quote(command)}" });
        var task = await platform.WaitForEndAsync(id, timeout ?? TimeSpan.FromSeconds(60));
        var lines = (await platform.GetLogsAsync(id)).Select(l => l!["line"]!.GetValue<string>()).ToList();
        return (task, lines);
    }

    private async Task<string> RegisterAsync(object? settings)
    {
        var name = "hostile-" + Guid.NewGuid().ToString("N")[..10];
        var body = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(settings ?? new { }))!.AsObject();
        body["name"] = name;
        body["command"] = "true";
        var response = await platform.Api.PostAsync("/v3/apps", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return name;
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\"'\"'") + "'";

    private static (int Uid, int Gid) HostTaskUser()
    {
        var entry = File.ReadLines("/etc/passwd").Select(l => l.Split(':')).Single(p => p[0] == "platform-task");
        return (int.Parse(entry[2]), int.Parse(entry[3]));
    }

    [Fact]
    public async Task A_task_runs_as_an_unprivileged_host_user_with_no_capabilities_and_a_setuid_binary_does_not_raise_it()
    {
        var (task, lines) = await RunAsync(
            "id -u; id -g; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status | tr -s '\\t ' ' '; " +
            "cat /etc/shadow >/dev/null 2>&1 && echo shadow-read || echo shadow-denied; " +
            "/usr/bin/mount -t tmpfs none /home/task/tmp >/dev/null 2>&1 && echo setuid-mount-worked || echo setuid-mount-failed; " +
            "/usr/bin/su -c true root </dev/null >/dev/null 2>&1 && echo su-worked || echo su-failed");

        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
        var (uid, gid) = HostTaskUser();
        Assert.Equal(uid.ToString(), lines[0]);
        Assert.Equal(gid.ToString(), lines[1]);
        foreach (var set in (string[])["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]) Assert.Contains($"{set}: 0000000000000000", lines);
        Assert.Contains("NoNewPrivs: 1", lines);
        Assert.Contains("Seccomp: 2", lines);
        Assert.Contains("shadow-denied", lines);
        Assert.Contains("setuid-mount-failed", lines);
        Assert.Contains("su-failed", lines);
    }

    [Fact]
    public async Task Mounts_namespaces_tracing_modules_keys_bpf_and_the_clock_are_refused_with_eperm_and_the_task_lives_on()
    {
        // The system call numbers below are x86_64's (the machines Platform is built and tested on).
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        // name, x86_64 number, arguments: each made directly, so that no tool's own checks stand in for the kernel's answer.
        (string Name, string Call)[] calls =
        [
            ("mount", "165, \"none\", \"/home/task/tmp\", \"tmpfs\", 0, 0"), ("umount2", "166, \"/proc\", 2"), ("pivot_root", "155, \".\", \".\""),
            ("unshare-user", "272, 0x10000000"), ("unshare-net", "272, 0x40000000"), ("unshare-mount", "272, 0x00020000"), ("setns", "308, 0, 0"),
            ("clone-newuser", "56, 0x10000011, 0, 0, 0, 0"), ("clone-newpid", "56, 0x20000011, 0, 0, 0, 0"),
            ("ptrace", "101, 0, 0, 0, 0"), ("process_vm_readv", "310, 1, 0, 0, 0, 0, 0"),
            ("init_module", "175, 0, 0, \"\""), ("finit_module", "313, 0, \"\", 0"), ("delete_module", "176, \"ext4\", 0"),
            ("kexec_load", "246, 0, 0, 0, 0"), ("bpf", "321, 0, 0, 0"), ("perf_event_open", "298, 0, 0, -1, -1, 0"),
            ("keyctl", "250, 0, -3, 0, 0, 0"), ("add_key", "248, \"user\", \"k\", \"v\", 1, -3"),
            ("settimeofday", "164, 0, 0"), ("clock_settime", "227, 0, 0"), ("adjtimex", "159, 0"),
            ("userfaultfd", "323, 0"), ("io_uring_setup", "425, 1, 0"), ("swapon", "167, \"/home/task/x\", 0"), ("reboot", "169, 0, 0, 0, 0"),
            ("syslog", "103, 3, 0, 0"), ("open_by_handle_at", "304, 0, 0, 0"),
        ];
        // perl's syscall may write through its string arguments, so they go through an array, not as literals.
        var script = string.Concat(calls.Append((Name: "clone3", Call: "435, 0, 0")).Select(c =>
                     {
                         var (number, arguments) = (c.Call.Split(',', 2)[0], c.Call.Split(',', 2).ElementAtOrDefault(1) ?? "");
                         return $"@a = ({arguments}); $r = syscall({number}, @a); printf(\"{c.Name} %d %d\\n\", $r, $! + 0); ";
                     })) + "print \"alive\\n\";";

        var (task, lines) = await RunAsync($"perl -e {Quote(script)}");

        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
        foreach (var (name, _) in calls) Assert.Contains($"{name} -1 1", lines); // EPERM
        Assert.Contains("clone3 -1 38", lines); // ENOSYS, so that C libraries fall back to clone, which is filtered
        Assert.Equal("alive", lines[^1]);
    }

    [Fact]
    public async Task The_escapes_that_worked_before_fail_now_remounts_cgroup_mounts_host_writes_and_host_secrets()
    {
        var (task, lines) = await RunAsync(
            "for d in /usr /etc / /opt; do touch $d/platform-probe 2>/dev/null && echo \"wrote $d\" || echo \"read-only $d\"; done; " +
            "mount -o remount,rw,bind /usr 2>/dev/null && touch /usr/x 2>/dev/null && echo remounted || echo remount-refused; " +
            "mkdir -p cg && mount -t cgroup -o memory none cg 2>/dev/null && echo cgroup-mounted || echo cgroup-mount-refused; " +
            "echo $$ > /sys/fs/cgroup/memory/cgroup.procs 2>/dev/null && echo cgroup-escaped || echo cgroup-escape-refused; " +
            "unshare -r true 2>/dev/null && echo userns-made || echo userns-refused; " +
            "unshare -n true 2>/dev/null && echo netns-made || echo netns-refused; " +
            "for p in /root /var/lib/postgresql /var/lib/rabbitmq /run/postgresql; do [ -e $p ] && echo \"present $p\" || echo \"absent $p\"; done; " +
            "echo environ-with-credentials $(grep -l -a -e TaskStore__ -e RabbitMq__ /proc/[0-9]*/environ 2>/dev/null | wc -l); " +
            "echo processes $(ls /proc | grep -c '^[0-9]'); " +
            // ls's own: its three standard streams and the directory it reads. The executor holds every task
            // network namespace open, and whatever started it may have left it descriptors: none may reach a task.
            "echo open-files $(ls /proc/self/fd | tr '\\n' ' ')");

        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
        Assert.Equal(["read-only /usr", "read-only /etc", "read-only /", "read-only /opt"], lines.Take(4));
        Assert.Contains("remount-refused", lines);
        Assert.Contains("cgroup-mount-refused", lines);
        Assert.Contains("cgroup-escape-refused", lines);
        Assert.Contains("userns-refused", lines);
        Assert.Contains("netns-refused", lines);
        Assert.Contains("absent /root", lines);
        Assert.Contains("absent /var/lib/postgresql", lines);
        Assert.Contains("absent /var/lib/rabbitmq", lines);
        Assert.Contains("absent /run/postgresql", lines);
        Assert.Contains("environ-with-credentials 0", lines);
        var processes = int.Parse(lines.Single(l => l.StartsWith("processes ")).Split(' ')[1]);
        Assert.True(processes < 8, $"the task saw {processes} processes: not its own PID namespace");
        Assert.Equal("open-files 0 1 2 3", lines.Single(l => l.StartsWith("open-files")).TrimEnd());
        Assert.False(File.Exists("/usr/platform-probe") || File.Exists("/usr/x") || File.Exists("/etc/platform-probe"));
    }

    [Fact]
    public async Task A_task_reaches_neither_the_platforms_servers_nor_any_address_of_the_host()
    {
        using var listener = new TcpListener(IPAddress.Any, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var hostAddresses = NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address).Where(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a)).ToList();
        Assert.NotEmpty(hostAddresses);
        // The listener answers anyone on the host: the task's failure below is the sandbox's doing.
        foreach (var address in hostAddresses)
        {
            using var control = new TcpClient();
            await control.ConnectAsync(address, port);
        }
        var api = platform.ApiProcess.BaseAddress;
        var targets = new List<string> { "127.0.0.1:5432", "127.0.0.1:5672", "127.0.0.1:15672", "127.0.0.1:4369", "127.0.0.1:25672", $"127.0.0.1:{api.Port}", $"127.0.0.1:{port}", $"10.0.2.2:{port}", "10.0.2.2:5432" };
        foreach (var address in hostAddresses) targets.AddRange([$"{address}:{port}", $"{address}:5672", $"{address}:4369", $"{address}:{api.Port}"]);

        for (var i = 0; i < hostAddresses.Count; i++) (await listener.AcceptTcpClientAsync()).Dispose();

        var (_, lines) = await RunAsync(string.Concat(targets.Select(t =>
            $"timeout 3 bash -c 'exec 3<>/dev/tcp/{t.Split(':')[0]}/{t.Split(':')[1]}' 2>/dev/null && echo 'open {t}' || echo 'closed {t}'; ")));

        Assert.Equal(targets.Select(t => $"closed {t}"), lines);
        Assert.False(listener.Pending(), "a connection from the task reached the host's listener");
    }

    [Fact]
    public async Task Outbound_traffic_leaves_by_default_but_never_to_link_local_and_an_app_can_narrow_it_or_have_none()
    {
        await using var outside = await OutsideNetwork.CreateAsync();
        var allowed = $"{outside.Address}:8080";
        var otherPort = $"{outside.Address}:8081";
        var metadata = "169.254.169.254:80";
        // From the host, all three answer.
        Assert.Equal("outside 8080", await outside.ReadFromHostAsync(outside.Address, 8080));
        Assert.Equal("outside 8081", await outside.ReadFromHostAsync(outside.Address, 8081));
        Assert.Equal("metadata", await outside.ReadFromHostAsync("169.254.169.254", 80));
        var probe = string.Concat(new[] { allowed, otherPort, metadata }.Select(t =>
            $"echo \"{t} $(timeout 3 bash -c 'exec 3<>/dev/tcp/{t.Split(':')[0]}/{t.Split(':')[1]}; head -n 1 <&3' 2>/dev/null || echo unreachable)\"; ")) +
            "echo interfaces $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' ')";

        var (_, open) = await RunAsync(probe);
        var (_, restricted) = await RunAsync(probe, new
        {
            network = new { egress = "restricted", allow = new[] { new { protocol = "tcp", destination = outside.Address, ports = "8080" } } },
        });
        var (_, none) = await RunAsync(probe, new { network = new { egress = "none" } });

        Assert.Equal([$"{allowed} outside 8080", $"{otherPort} outside 8081", $"{metadata} unreachable", "interfaces lo tap0"], open);
        Assert.Equal([$"{allowed} outside 8080", $"{otherPort} unreachable", $"{metadata} unreachable", "interfaces lo tap0"], restricted);
        Assert.Equal([$"{allowed} unreachable", $"{otherPort} unreachable", $"{metadata} unreachable", "interfaces lo"], none);
    }

    [Fact]
    public async Task A_network_namespace_serves_later_tasks_but_never_after_it_held_an_apps_allow_list()
    {
        await using var outside = await OutsideNetwork.CreateAsync();
        var probe = $"timeout 3 bash -c 'exec 3<>/dev/tcp/{outside.Address}/8081; head -n 1 <&3' 2>/dev/null || echo unreachable";
        var restrictedApp = new { network = new { egress = "restricted", allow = new[] { new { protocol = "tcp", destination = outside.Address, ports = "8080" } } } };

        // Alternating, one at a time: were a narrowed namespace handed on, an open task after it would lose port 8081.
        var seen = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            seen.Add(string.Join(" ", (await RunAsync(probe)).Lines));
            seen.Add(string.Join(" ", (await RunAsync(probe, restrictedApp)).Lines));
        }
        // The namespaces prepared before the outside network's addresses appeared on the host are stale and made
        // again when taken; a few more open tasks use the rest up. Then open tasks make no more namespaces.
        for (var i = 0; i < 4; i++) await RunAsync("true");
        var before = await SandboxResourcesAsync("network_namespace");
        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("SUCCEEDED", (await RunAsync("true")).Task["state"]!.GetValue<string>());
            // A namespace goes back to its executor's pool in the background once its task's cgroup is empty,
            // a moment after the end is recorded: the next task should find it there.
            await Task.Delay(500);
        }
        var after = await SandboxResourcesAsync("network_namespace");

        Assert.Equal(Enumerable.Range(0, 6).SelectMany(_ => new[] { "outside 8081", "unreachable" }), seen);
        // Without reuse each of the 6 starts would take a namespace made for it (ahead of demand or at its start).
        Assert.Equal(6, after.Taken - before.Taken);
        Assert.InRange(after.Taken - after.Reused - (before.Taken - before.Reused), 0, 2);
    }

    [Fact]
    public async Task A_cgroup_serves_later_tasks_with_their_own_limits_and_not_the_kills_of_the_task_before()
    {
        // One at a time, so that each task takes the cgroup an earlier one left: were the last task's limit or
        // kill counters carried over, the task after an OOM kill or a fork bomb would be reported killed too.
        await RunAsync("true");
        var before = await SandboxResourcesAsync("cgroup");
        var (oom, _) = await RunAsync("x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived", new { memory_in_mb = 32 });
        var (afterOom, afterOomLines) = await RunAsync("x=$(head -c 30000000 /dev/zero | tr '\\0' a); echo kept ${#x}; exit 3", new { memory_in_mb = 256 });
        var (bomb, _) = await RunAsync("f() { f | f & }; f; sleep 60", new { pids_limit = 16 });
        var (afterBomb, afterBombLines) = await RunAsync("for i in $(seq 1 40); do sleep 1 & done; wait; echo forty children", new { pids_limit = 256 });
        for (var i = 0; i < 3; i++) Assert.Equal("SUCCEEDED", (await RunAsync("true")).Task["state"]!.GetValue<string>());
        var after = await SandboxResourcesAsync("cgroup");

        Assert.StartsWith("memory limit of 32 MB exceeded", oom["result"]!["failure_reason"]!.GetValue<string>());
        Assert.Equal("exited with code 3", afterOom["result"]!["failure_reason"]!.GetValue<string>());
        Assert.Contains("kept 30000000", afterOomLines);
        Assert.Equal("process limit of 16 exceeded: the task was killed", bomb["result"]!["failure_reason"]!.GetValue<string>());
        Assert.Equal("SUCCEEDED", afterBomb["state"]!.GetValue<string>());
        Assert.Contains("forty children", afterBombLines);
        // Without reuse each of the 7 starts would make one; a cgroup still charged with more memory than the
        // next task may have is made again. A task that takes a sandbox started ahead takes its cgroup with it
        // and the pool's top-up takes one; a sandbox started ahead that does not fit a task is given up, so up
        // to two more may be taken.
        Assert.InRange(after.Taken - before.Taken, 7, 9);
        Assert.InRange(after.Made - before.Made, 0, 3);
    }

    [Fact]
    public async Task A_sandbox_started_ahead_serves_one_task_with_that_tasks_environment_limits_and_an_empty_scratch()
    {
        // Each check runs until executor A (the one with the launcher) served it from a sandbox it started while
        // the task before ran: were a sandbox handed to a second task, or its placeholder limits (64 MB, 1,024
        // processes) left in place, a task would see the one before's files, or fail past 64 MB, or fork past 16.
        await RunAheadAsync("echo left > ~/mark; echo left > /tmp/mark");
        var (reader, readerLines) = await RunAheadAsync("echo home $(ls -A ~); echo tmp $(ls -A /tmp); echo id $PLATFORM_TASK_ID");
        var (large, largeLines) = await RunAheadAsync("x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo kept ${#x}", new { memory_in_mb = 768 });
        var (forks, _) = await RunAheadAsync("for i in $(seq 1 40); do sleep 2 & done; wait; echo forty children", new { pids_limit = 16 });

        Assert.Equal(["home tmp", "tmp", $"id {reader["guid"]!.GetValue<string>()}"], readerLines);
        Assert.Equal("SUCCEEDED", large["state"]!.GetValue<string>());
        Assert.Contains("kept 100000000", largeLines);
        Assert.Equal("process limit of 16 exceeded: the task was killed", forks["result"]!["failure_reason"]!.GetValue<string>());
    }

    /// <summary>Runs the task again until executor A says it took a sandbox started ahead for it (the other executor has no launcher, so none).</summary>
    private async Task<(JsonNode Task, List<string> Lines)> RunAheadAsync(string command, object? app = null)
    {
        var executorA = platform.Services.First(s => s.Service == "Executor");
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var before = await SandboxResourcesAsync("sandbox", executorA);
            var result = await RunAsync(command, app);
            var after = await SandboxResourcesAsync("sandbox", executorA);
            if (after.Taken - after.Made > before.Taken - before.Made) return result;
        }
        throw new Xunit.Sdk.XunitException($"No sandbox started ahead served '{command}' in 10 runs");
    }

    /// <summary>
    /// Waited before each count of sandbox resources: the pools' top-ups of the tasks just run land
    /// (<c>ReadySandboxes.RefillDelay</c> and a sandbox's start), and the scrape is not answered from the
    /// exporter's cache (300 ms), which had counted the task before a count began as one of those after it.
    /// </summary>
    private static readonly TimeSpan SettleBeforeCounting = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How many of a sandbox resource (cgroup, network_namespace, sandbox) the fixture's executors (or <paramref name="only"/>)
    /// have given to tasks so far, how many of those they made at the task's start, and how many had served a task
    /// before, as their metrics say; the rest were made ahead of demand.
    /// </summary>
    private async Task<(long Taken, long Made, long Reused)> SandboxResourcesAsync(string resource, ServiceProcess? only = null)
    {
        await Task.Delay(SettleBeforeCounting);
        long taken = 0, made = 0, reused = 0;
        foreach (var executor in platform.Services.Where(s => s.Service == "Executor" && (only is null || s == only)))
        {
            using var client = new HttpClient { BaseAddress = executor.BaseAddress };
            var text = await client.GetStringAsync("/metrics");
            var series = System.Text.RegularExpressions.Regex.Matches(text, "^platform_sandbox_resources_total\\{([^}]*)\\} (\\d+)", System.Text.RegularExpressions.RegexOptions.Multiline)
                .Where(m => m.Groups[1].Value.Contains($"platform_sandbox_resource=\"{resource}\"")).ToList();
            taken += series.Sum(m => long.Parse(m.Groups[2].Value));
            made += series.Where(m => m.Groups[1].Value.Contains("platform_sandbox_resource_origin=\"new\"")).Sum(m => long.Parse(m.Groups[2].Value));
            reused += series.Where(m => m.Groups[1].Value.Contains("platform_sandbox_resource_origin=\"reused\"")).Sum(m => long.Parse(m.Groups[2].Value));
        }
        return (taken, made, reused);
    }

    [Fact]
    public async Task A_fork_bomb_ends_its_task_failed_naming_the_process_limit_while_other_tasks_keep_running()
    {
        var neighbourApp = await platform.RegisterAppAsync();
        var neighbour = await platform.RunTaskAsync(neighbourApp, new { command = "sleep 3; echo neighbour done" });

        var (bomb, _) = await RunAsync("f() { f | f & }; f; sleep 60", new { pids_limit = 64 });
        var (within, withinLines) = await RunAsync("for i in $(seq 1 20); do sleep 1 & done; wait; echo twenty children", new { pids_limit = 64 });

        Assert.Equal("FAILED", bomb["state"]!.GetValue<string>());
        Assert.Equal("process limit of 64 exceeded: the task was killed", bomb["result"]!["failure_reason"]!.GetValue<string>());
        Assert.Equal("SUCCEEDED", within["state"]!.GetValue<string>());
        Assert.Contains("twenty children", withinLines);
        var neighbourTask = await platform.WaitForEndAsync(neighbour);
        Assert.Equal("SUCCEEDED", neighbourTask["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_tasks_cpu_share_follows_its_memory_when_tasks_compete_for_one_core()
    {
        // Both tasks spin on CPU 0 for the same three seconds of wall-clock time; the kernel divides that core by
        // their cgroups' weights (1 GiB : 128 MiB = 8 : 1). The window starts 5 s from now, whenever each task was
        // dispatched: had one task spun alone before the other started (or after it stopped), the counts would
        // measure dispatch and bash's whole-second clock, not the share.
        var start = DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeMilliseconds() * 1000;
        var spin = $"start={start}; end=$((start+3000000)); " +
                   "while (( ${EPOCHREALTIME//[.,]/} < start )); do sleep 0.01; done; " +
                   "n=0; while (( ${EPOCHREALTIME//[.,]/} < end )); do n=$((n+1)); done; echo $n";
        var big = await RegisterAsync(new { memory_in_mb = 1024 });
        var small = await RegisterAsync(new { memory_in_mb = 128 });
        var bigTask = await platform.RunTaskAsync(big, new { command = $"taskset -c 0 bash -c {Quote(spin)}" });
        var smallTask = await platform.RunTaskAsync(small, new { command = $"taskset -c 0 bash -c {Quote(spin)}" });
        await platform.WaitForEndAsync(bigTask);
        await platform.WaitForEndAsync(smallTask);

        var bigCount = long.Parse((await platform.GetLogsAsync(bigTask)).Single()!["line"]!.GetValue<string>());
        var smallCount = long.Parse((await platform.GetLogsAsync(smallTask)).Single()!["line"]!.GetValue<string>());

        Assert.True(bigCount > 3 * smallCount, $"1 GiB task counted {bigCount}, 128 MiB task {smallCount}: CPU not shared by memory");
    }

    [Fact]
    public async Task Every_process_of_a_task_is_gone_when_it_ends_even_a_double_forked_daemon()
    {
        var marker = "platform-orphan-" + Guid.NewGuid().ToString("N")[..8];
        var app = await RegisterAsync(null);
        var id = await platform.RunTaskAsync(app, new { command = $"bash -c '(setsid bash -c \"exec -a {marker} sleep 300\" &); sleep 2; echo spawned'" });

        var seenWhileRunning = false;
        for (var i = 0; i < 40 && !seenWhileRunning; i++)
        {
            seenWhileRunning = HostProcessesNamed(marker) > 0;
            if (!seenWhileRunning) await Task.Delay(100);
        }
        var task = await platform.WaitForEndAsync(id);
        var remaining = HostProcessesNamed(marker);
        for (var i = 0; i < 50 && remaining > 0; i++)
        {
            await Task.Delay(100);
            remaining = HostProcessesNamed(marker);
        }

        Assert.True(seenWhileRunning, "the daemon was never seen on the host: the check below would prove nothing");
        Assert.Equal("SUCCEEDED", task["state"]!.GetValue<string>());
        Assert.Equal(0, remaining);
    }

    private static int HostProcessesNamed(string marker) =>
        Directory.GetDirectories("/proc").Count(d =>
        {
            try
            {
                return int.TryParse(Path.GetFileName(d), out _) && File.ReadAllText(Path.Combine(d, "cmdline")).StartsWith(marker);
            }
            catch (IOException)
            {
                return false;
            }
        });

    /// <summary>
    /// A stand-in for "the internet" and a cloud's metadata service, on this machine only: a network namespace
    /// of the test's own, joined to the host by a veth pair, with socat listeners at a 198.18.x.2 address
    /// (benchmarking range, not the host's) and at 169.254.169.254.
    /// </summary>
    private sealed class OutsideNetwork : IAsyncDisposable
    {
        private readonly string _name;
        private readonly string _hostLink;
        private readonly List<Process> _listeners = [];

        private OutsideNetwork(string name, string hostLink, string address)
        {
            _name = name;
            _hostLink = hostLink;
            Address = address;
        }

        public string Address { get; }

        public static async Task<OutsideNetwork> CreateAsync()
        {
            var id = Guid.NewGuid().ToString("N")[..6];
            var subnet = Random.Shared.Next(0, 256);
            var network = new OutsideNetwork($"pt-{id}", $"pv{id}", $"198.18.{subnet}.2");
            var inside = $"pe{id}";
            try
            {
                foreach (var command in (string[])[
                             $"ip netns add {network._name}",
                             $"ip link add {network._hostLink} type veth peer name {inside} netns {network._name}",
                             $"ip addr add 198.18.{subnet}.1/30 dev {network._hostLink}", $"ip link set {network._hostLink} up",
                             $"ip -n {network._name} addr add {network.Address}/30 dev {inside}",
                             $"ip -n {network._name} addr add 169.254.169.254/32 dev {inside}",
                             $"ip -n {network._name} link set {inside} up", $"ip -n {network._name} link set lo up",
                             $"ip -n {network._name} route add default via 198.18.{subnet}.1",
                             $"ip route replace 169.254.169.254/32 via {network.Address}"])
                    await RunAsync(command);
                network.Listen(network.Address, 8080, "outside 8080");
                network.Listen(network.Address, 8081, "outside 8081");
                network.Listen("169.254.169.254", 80, "metadata");
                for (var i = 0; i < 50 && await network.ReadFromHostAsync(network.Address, 8080) is null; i++) await Task.Delay(100);
                return network;
            }
            catch
            {
                await network.DisposeAsync();
                throw;
            }
        }

        private void Listen(string address, int port, string answer)
        {
            var start = new ProcessStartInfo("ip") { ArgumentList = { "netns", "exec", _name, "socat", $"TCP-LISTEN:{port},bind={address},fork,reuseaddr", $"SYSTEM:echo {answer}" } };
            _listeners.Add(Process.Start(start)!);
        }

        public async Task<string?> ReadFromHostAsync(string address, int port)
        {
            try
            {
                using var client = new TcpClient();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
                await client.ConnectAsync(address, port, timeout.Token);
                using var reader = new StreamReader(client.GetStream());
                return await reader.ReadLineAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException or IOException)
            {
                return null;
            }
        }

        private static async Task RunAsync(string command)
        {
            var parts = command.Split(' ');
            var start = new ProcessStartInfo(parts[0]) { RedirectStandardError = true };
            foreach (var part in parts.Skip(1)) start.ArgumentList.Add(part);
            using var process = Process.Start(start)!;
            var error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0) throw new InvalidOperationException($"{command}: {error}");
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var listener in _listeners)
            {
                try
                {
                    listener.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
                listener.Dispose();
            }
            foreach (var command in (string[])[$"ip route del 169.254.169.254/32 via {Address}", $"ip link del {_hostLink}", $"ip netns del {_name}"])
            {
                try
                {
                    await RunAsync(command);
                }
                catch (InvalidOperationException)
                {
                }
            }
        }
    }
}
