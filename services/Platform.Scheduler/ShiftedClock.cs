namespace Platform.Scheduler;

/// <summary>A clock that reads <see cref="SchedulerOptions.ClockStart"/> at start-up and runs at real speed from there.</summary>
internal sealed class ShiftedClock(DateTimeOffset start) : TimeProvider
{
    private readonly TimeSpan _offset = start - System.GetUtcNow();

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + _offset;
}
