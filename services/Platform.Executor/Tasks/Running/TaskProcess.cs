using System.Diagnostics;
using Microsoft.Extensions.Options;
using Platform.TaskStore.Logs;

namespace Platform.Executor.Tasks.Running;

/// <summary>How a task's process ended.</summary>
internal sealed record ProcessOutcome(int? ExitCode, string? FailureReason)
{
    public bool Succeeded => ExitCode == 0 && FailureReason is null;
}

/// <summary>
/// Runs a task's command as a child process: <c>sh -c command</c> in the task's own scratch directory,
/// with only the app's and the task's environment (never the executor's own, which holds credentials),
/// stdout and stderr read line by line into <see cref="TaskOutput"/>.
/// </summary>
internal sealed class TaskProcess(IOptions<ExecutorOptions> options, ILogger<TaskProcess> logger)
{
    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(5);

    public async Task<ProcessOutcome> RunAsync(ClaimedTask task, TaskOutput output, CancellationToken terminate)
    {
        var scratch = Path.Combine(options.Value.WorkDirectory, task.TaskId.ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            var start = new ProcessStartInfo(options.Value.Shell)
            {
                ArgumentList = { "-c", task.Command },
                WorkingDirectory = scratch,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            start.Environment.Clear();
            foreach (var (name, value) in TaskEnvironment.For(task, scratch)) start.Environment[name] = value;

            using var process = new Process { StartInfo = start };
            try
            {
                process.Start();
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                return new ProcessOutcome(null, $"the process could not start: {ex.Message}");
            }
            process.StandardInput.Close();
            var pumps = Task.WhenAll(
                output.PumpAsync(process.StandardOutput, LogStream.Stdout),
                output.PumpAsync(process.StandardError, LogStream.Stderr));

            try
            {
                await process.WaitForExitAsync(terminate);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                await DrainAsync(pumps, task);
                return new ProcessOutcome(null, "terminated");
            }
            await DrainAsync(pumps, task);
            return new ProcessOutcome(process.ExitCode, process.ExitCode == 0 ? null : $"exited with code {process.ExitCode}");
        }
        finally
        {
            TryDelete(scratch);
        }
    }

    // A background child that outlives the shell may hold the pipes open; do not wait for it forever.
    private async Task DrainAsync(Task pumps, ClaimedTask task)
    {
        if (await Task.WhenAny(pumps, Task.Delay(OutputDrainTimeout)) != pumps)
            logger.LogWarning("Task {TaskId}: output pipes still open {Timeout} after exit; a child process outlived the task", task.TaskId, OutputDrainTimeout);
    }

    private void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not remove scratch directory {Directory}", directory);
        }
    }
}
