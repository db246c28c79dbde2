using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;
using Platform.Executor.Telemetry;
using Platform.TaskStore.Apps;

namespace Platform.Executor.Tasks.Sandboxing;

/// <summary>
/// A network namespace of one task at a time, whose traffic leaves through a slirp4netns process (user-mode
/// TCP/IP: the task gets 10.0.2.100, a gateway and a DNS forwarder, and no interface of the host), behind
/// the <see cref="EgressFirewall"/> rules. A task ends with <see cref="TaskEnded"/>: a namespace that still
/// has only the base rules goes back to <see cref="TaskNetworks"/> for the next task once every process of
/// its task is gone; any other is destroyed (<see cref="Dispose"/>).
/// </summary>
/// <remarks>
/// The namespace is held by an open file of this process (<paramref name="pin"/>), not by a mount: every
/// sandbox start copies the host's mount table (its new mount namespace; bubblewrap also parsed it for each of its read-only
/// binds), so each mounted namespace made every start dearer; and a killed executor's files close with it, so
/// no namespace outlives its executor.
/// </remarks>
internal sealed partial class TaskNetwork(SafeFileHandle pin, Process slirp, string rules) : IDisposable
{
    private const int DetachMount = 2; // MNT_DETACH

    /// <summary>Where a child of this process opens the namespace: the executor's own open file, through /proc.</summary>
    public string NamespacePath { get; } = PathOf(pin);

    public static string PathOf(SafeFileHandle pin) => $"/proc/{Environment.ProcessId}/fd/{pin.DangerousGetHandle()}";

    /// <summary>The base rules it was made with, so that one made before the host's addresses changed is not used.</summary>
    public string Rules { get; } = rules;

    /// <summary>Set when an app's allow-list was loaded into it: such a namespace is never given to another task.</summary>
    public bool Narrowed { get; set; }

    /// <summary>Whether it served a task before (rather than being made ahead of demand).</summary>
    public bool Served { get; set; }

    /// <summary>Where a namespace that may serve another task goes when its task has ended.</summary>
    public Action<TaskNetwork>? Recycle { get; set; }

    /// <summary>Whether slirp4netns still serves it (it may have died with the task's traffic, or been killed).</summary>
    public bool Serving => !slirp.HasExited;

    /// <summary>
    /// The end of its task. <paramref name="taskGone"/> says that no process of the task is left (its cgroup is
    /// empty): only then may the namespace serve another task; a process left in it would share it.
    /// </summary>
    public void TaskEnded(bool taskGone)
    {
        if (taskGone && !Narrowed && Recycle is { } recycle) recycle(this);
        else Dispose();
    }

    /// <summary>
    /// Closes the namespace's file and lets slirp go in the background: it exits when its --exit-fd (our pipe)
    /// closes, and the namespace with it.
    /// </summary>
    public void Dispose()
    {
        try
        {
            slirp.StandardInput.Close();
        }
        catch (IOException)
        {
        }
        pin.Dispose();
        _ = Task.Run(() =>
        {
            try
            {
                if (!slirp.WaitForExit(TimeSpan.FromSeconds(2))) slirp.Kill();
            }
            catch (InvalidOperationException)
            {
            }
            slirp.Dispose();
        });
    }

    /// <summary>Unmounts a namespace's file (the namespace goes when nothing holds it any more) and deletes it.</summary>
    public static void Release(string path)
    {
        _ = Unmount(path, DetachMount);
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "umount2", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Unmount(string target, int flags);
}

/// <summary>
/// Makes tasks' network namespaces, a few ahead of demand (<see cref="SandboxOptions.PreparedNetworks"/>), so
/// that a task's start does not wait for the namespace, its rules and slirp4netns (about 50 ms together,
/// docs/benchmarks.md), and keeps the ones whose task has ended for the next tasks: making and destroying
/// a namespace per task was the largest cost of a sandboxed start. A namespace carries the rules every task
/// gets; an app's allow-list is added when it is taken, and such a namespace is destroyed after its task.
/// A task cannot change its namespace (it holds no capability over it), so what the next task finds there
/// is what the executor put there.
/// </summary>
internal sealed class TaskNetworks(
    IOptions<SandboxOptions> options, IOptions<ExecutorOptions> executor, DeniedDestinations denied, ExecutorTelemetry telemetry, ILogger<TaskNetworks> logger)
    : IDisposable
{
    // Last in, first out: a namespace its task just gave back is taken before one prepared ahead, which stays
    // for a burst (and the pool stays as small as the load needs).
    private readonly ConcurrentStack<TaskNetwork> _ready = new();
    private readonly SemaphoreSlim _wanted = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private string _directory = "";
    private long _count;
    private (string Rules, long At)? _rules;

    /// <summary>The most namespaces kept idle: one per task slot, and the ones prepared ahead.</summary>
    private int MostIdle => executor.Value.MaxConcurrentTasks + options.Value.PreparedNetworks;

    /// <summary>Makes and releases one namespace; returns why it could not, or null. Starts preparing ahead when it could.</summary>
    public string? Probe()
    {
        _directory = Path.Combine(executor.Value.WorkDirectory, "netns", executor.Value.Name);
        Directory.CreateDirectory(_directory);
        // Namespaces left by an earlier run of this executor (killed while it was making them).
        foreach (var stale in Directory.GetFiles(_directory)) TaskNetwork.Release(stale);
        try
        {
            using var trial = CreateAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
        {
            return ex.Message;
        }
        _ = Task.Run(PrepareAheadAsync);
        for (var i = 0; i < options.Value.PreparedNetworks; i++) _wanted.Release();
        return null;
    }

    /// <summary>A fresh namespace for a task, with the app's allow-list in place when it has one.</summary>
    public async Task<TaskNetwork> TakeAsync(AppNetwork policy, CancellationToken ct)
    {
        var network = _ready.TryPop(out var prepared) ? prepared : null;
        if (_ready.Count < options.Value.PreparedNetworks) _wanted.Release();
        if (network is not null && (network.Rules != CurrentRules() || !network.Serving))
        {
            // An address came to (or left) the host after this namespace was made (its deny list is out of
            // date), or its slirp4netns is gone.
            network.Dispose();
            network = null;
        }
        telemetry.SandboxResourceTaken(ExecutorTelemetry.NetworkNamespace,
            network is null ? ExecutorTelemetry.New : network.Served ? ExecutorTelemetry.Reused : ExecutorTelemetry.Prepared);
        network ??= await CreateAsync(ct);
        network.Recycle = Recycle;
        try
        {
            if (EgressFirewall.PolicyRules(policy) is { } rules)
            {
                network.Narrowed = true;
                await RunAsync(["nsenter", $"--net={network.NamespacePath}", "--", options.Value.Nft, "-f", "-"], rules, ct);
            }
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether a namespace taken a while ago (by a sandbox started ahead of demand) may still serve a task: its
    /// slirp4netns is alive and its deny list covers the host's addresses as they are now.
    /// </summary>
    public bool StillCurrent(TaskNetwork network) => network.Serving && network.Rules == CurrentRules();

    private void Recycle(TaskNetwork network)
    {
        if (_stopping.IsCancellationRequested || !network.Serving || _ready.Count >= MostIdle || network.Rules != CurrentRules()) network.Dispose();
        else
        {
            network.Served = true;
            _ready.Push(network);
        }
    }

    /// <summary>
    /// The base rules for the host's addresses now. Reading every interface's addresses costs more than the
    /// rest of a start's network work, so the answer is kept for a second: an address that appears on the
    /// host is in the rules of every namespace handed out a second later.
    /// </summary>
    private string CurrentRules()
    {
        var now = Environment.TickCount64;
        if (_rules is { } kept && now - kept.At < 1000) return kept.Rules;
        var rules = EgressFirewall.BaseRules(denied.Current());
        _rules = (rules, now);
        return rules;
    }

    private async Task PrepareAheadAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await _wanted.WaitAsync(_stopping.Token);
                if (_ready.Count >= options.Value.PreparedNetworks) continue;
                var network = await CreateAsync(_stopping.Token);
                if (_stopping.IsCancellationRequested) network.Dispose();
                else _ready.Push(network);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Preparing a task network namespace failed; tasks will make their own");
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private async Task<TaskNetwork> CreateAsync(CancellationToken ct)
    {
        var file = Path.Combine(_directory, $"n{Interlocked.Increment(ref _count)}");
        var rules = CurrentRules();
        SafeFileHandle pin;
        await File.WriteAllBytesAsync(file, [], ct);
        try
        {
            // One process makes the namespace, mounts it on the file and loads the rules inside it; this
            // process then holds it open, and the mount goes at once.
            await RunAsync(["unshare", $"--net={file}", "--", options.Value.Nft, "-f", "-"], rules, ct);
            pin = File.OpenHandle(file, FileMode.Open, FileAccess.Read);
        }
        finally
        {
            TaskNetwork.Release(file);
        }
        try
        {
            return new TaskNetwork(pin, await StartSlirpAsync(TaskNetwork.PathOf(pin), ct), rules);
        }
        catch
        {
            pin.Dispose();
            throw;
        }
    }

    /// <summary>
    /// slirp4netns in the namespace, sandboxed and filtered itself, with no route to the host's loopback;
    /// it exits when its stdin (our pipe, its --exit-fd) closes, so a killed executor leaves none behind.
    /// </summary>
    private async Task<Process> StartSlirpAsync(string path, CancellationToken ct)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            ArgumentList =
            {
                "-c", "exec \"$0\" --configure --mtu=65520 --disable-host-loopback --enable-sandbox --enable-seccomp --netns-type=path --exit-fd=3 --ready-fd=4 \"$1\" tap0 3<&0 4>&1 >/dev/null",
                options.Value.Slirp4netns, path,
            },
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        var slirp = Process.Start(start) ?? throw new InvalidOperationException("slirp4netns did not start");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        var buffer = new char[1];
        try
        {
            if (await slirp.StandardOutput.ReadAsync(buffer, timeout.Token) == 1 && buffer[0] == '1') return slirp;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
        var error = slirp.HasExited ? await slirp.StandardError.ReadToEndAsync(CancellationToken.None) : "not ready within 5 s";
        try
        {
            slirp.Kill();
        }
        catch (InvalidOperationException)
        {
        }
        slirp.Dispose();
        throw new InvalidOperationException($"slirp4netns ('{options.Value.Slirp4netns}') failed: {error.Trim()}");
    }

    private static async Task RunAsync(string[] command, string input, CancellationToken ct)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardInput = true, RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in command.Skip(1)) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{command[0]} did not start");
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var error = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"'{string.Join(' ', command)}' failed (exit {process.ExitCode}): {(await error).Trim()}");
    }

    public void Dispose()
    {
        _stopping.Cancel();
        while (_ready.TryPop(out var network)) network.Dispose();
    }
}

/// <summary>
/// Destinations no task may reach beyond <see cref="EgressFirewall.AlwaysDenied"/>: every address of this host
/// (read again on each call: an interface that appears later is covered), the platform's own
/// servers as this executor is configured to reach them, and <see cref="SandboxOptions.DeniedNetworks"/>.
/// </summary>
internal sealed class DeniedDestinations(IOptions<SandboxOptions> options, IConfiguration configuration, ILogger<DeniedDestinations> logger)
{
    private IReadOnlyList<IPNetwork>? _configured;

    public IReadOnlyList<IPNetwork> Current()
    {
        var host = NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => new IPNetwork(a.Address, a.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
        return [.. host, .. _configured ??= Configured()];
    }

    private List<IPNetwork> Configured()
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in options.Value.DeniedNetworks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (EgressRule.TryParseDestination(entry, out var network)) networks.Add(network);
            else throw new InvalidOperationException($"Executor:Sandbox:DeniedNetworks: '{entry}' is not an IPv4 address or CIDR block");
        }
        foreach (var server in PlatformServers())
        {
            try
            {
                networks.AddRange(Dns.GetHostAddresses(server).Select(a => new IPNetwork(a, a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)));
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                logger.LogWarning("The platform server {Server} does not resolve ({Error}); it is not in the tasks' denied destinations", server, ex.Message);
            }
        }
        return networks;
    }

    /// <summary>The hosts of the task store and the broker, as configured for this executor.</summary>
    private IEnumerable<string> PlatformServers()
    {
        if (configuration["RabbitMq:Host"] is { Length: > 0 } rabbit) yield return rabbit;
        if (configuration["TaskStore:ConnectionString"] is { Length: > 0 } connection)
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(connection);
            foreach (var host in (builder.Host ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (!host.StartsWith('/')) yield return host.Split(':')[0];
        }
    }
}
