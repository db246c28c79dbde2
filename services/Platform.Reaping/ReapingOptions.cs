using System.ComponentModel.DataAnnotations;

namespace Platform.Reaping;

/// <summary>How a service looks for the tasks of executors that were lost.</summary>
public sealed class ReapingOptions
{
    public const string Section = "Reaping";

    /// <summary>
    /// How often expired executor leases are looked for. A lost executor's tasks end within its lease
    /// (<c>Executor:LeaseDuration</c>, 15 s) plus this.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A lost task with attempts left is requeued to run again this long after it was found (doubling with
    /// each attempt), as <c>Executor:RedispatchAfter</c> does for a task that was never claimed.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RequeueAfter { get; set; } = TimeSpan.FromSeconds(30);
}
