using Platform.Scheduler.Jobs.Scheduling;
using Platform.TaskStore.Jobs;

namespace Platform.UnitTests.Jobs;

public sealed class OccurrencePlannerTests
{
    private static JobCron Cron(string expression, string zone = "UTC") =>
        JobCron.TryParse(expression, zone, out var errors) ?? throw new InvalidOperationException(string.Join(" ", errors.Values.SelectMany(e => e)));

    private static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso + "Z").ToUniversalTime();

    [Fact]
    public void Nothing_is_due_before_the_next_occurrence()
    {
        var plan = OccurrencePlanner.Plan(Cron("*/5 * * * *"), Utc("2027-01-10T10:00:00"), Utc("2027-01-10T10:04:59"), null, 100);

        Assert.Same(OccurrencePlan.Nothing, plan);
    }

    [Fact]
    public void An_occurrence_that_is_due_fires_with_nothing_missed()
    {
        var plan = OccurrencePlanner.Plan(Cron("*/5 * * * *"), Utc("2027-01-10T10:00:00"), Utc("2027-01-10T10:05:00.300"), null, 100);

        Assert.Equal(Utc("2027-01-10T10:05:00"), plan.Fire);
        Assert.Equal(Utc("2027-01-10T10:05:00"), plan.Handled);
        Assert.Empty(plan.Missed);
    }

    [Fact]
    public void The_last_handled_occurrence_itself_is_never_due_again()
    {
        var plan = OccurrencePlanner.Plan(Cron("*/5 * * * *"), Utc("2027-01-10T10:05:00"), Utc("2027-01-10T10:05:00.900"), null, 100);

        Assert.Null(plan.Fire);
        Assert.Null(plan.Handled);
    }

    [Fact]
    public void After_downtime_across_five_occurrences_only_the_most_recent_fires_and_four_are_missed()
    {
        var plan = OccurrencePlanner.Plan(Cron("*/10 * * * * *"), Utc("2027-01-10T10:00:00"), Utc("2027-01-10T10:00:55"), null, 100);

        Assert.Equal(Utc("2027-01-10T10:00:50"), plan.Fire);
        Assert.Equal(
            [Utc("2027-01-10T10:00:10"), Utc("2027-01-10T10:00:20"), Utc("2027-01-10T10:00:30"), Utc("2027-01-10T10:00:40")],
            plan.Missed.Select(m => m.At));
        Assert.All(plan.Missed, m => Assert.Equal(OccurrencePlanner.SupersededReason, m.Reason));
        Assert.False(plan.EarlierMissedNotRecorded);
    }

    [Fact]
    public void A_missed_run_older_than_the_starting_deadline_is_missed_too()
    {
        var plan = OccurrencePlanner.Plan(Cron("0 * * * *"), Utc("2027-01-10T08:00:00"), Utc("2027-01-10T10:02:00"), TimeSpan.FromSeconds(60), 100);

        Assert.Null(plan.Fire);
        Assert.Equal([Utc("2027-01-10T09:00:00"), Utc("2027-01-10T10:00:00")], plan.Missed.Select(m => m.At));
        Assert.Contains("starting deadline of 60 s", plan.Missed[^1].Reason);
        Assert.Equal(Utc("2027-01-10T10:00:00"), plan.Handled);
    }

    [Fact]
    public void A_late_run_within_the_starting_deadline_still_fires()
    {
        var plan = OccurrencePlanner.Plan(Cron("0 * * * *"), Utc("2027-01-10T09:00:00"), Utc("2027-01-10T10:00:30"), TimeSpan.FromSeconds(60), 100);

        Assert.Equal(Utc("2027-01-10T10:00:00"), plan.Fire);
        Assert.Empty(plan.Missed);
    }

    [Fact]
    public void A_long_outage_of_a_per_second_schedule_records_only_the_most_recent_missed_ones()
    {
        var since = Utc("2027-01-01T00:00:00");
        var now = Utc("2027-01-03T00:00:00.5");

        var plan = OccurrencePlanner.Plan(Cron("* * * * * *"), since, now, null, 100);

        Assert.Equal(Utc("2027-01-03T00:00:00"), plan.Fire);
        Assert.Equal(100, plan.Missed.Count);
        Assert.Equal(Utc("2027-01-02T23:59:59"), plan.Missed[^1].At);
        Assert.Equal(Utc("2027-01-02T23:58:20"), plan.Missed[0].At);
        Assert.True(plan.EarlierMissedNotRecorded);
    }

    [Fact]
    public void Missed_occurrences_are_listed_oldest_first_and_all_of_them_when_few()
    {
        var plan = OccurrencePlanner.Plan(Cron("0 0 * * *"), Utc("2027-01-01T00:00:00"), Utc("2027-01-04T12:00:00"), null, 2);

        Assert.Equal(Utc("2027-01-04T00:00:00"), plan.Fire);
        Assert.Equal([Utc("2027-01-02T00:00:00"), Utc("2027-01-03T00:00:00")], plan.Missed.Select(m => m.At));
        Assert.False(plan.EarlierMissedNotRecorded);
    }

    [Fact]
    public void Spring_forward_in_new_york_runs_a_time_in_the_gap_at_the_moment_after_the_gap()
    {
        // 2027-03-14: 02:00 EST becomes 03:00 EDT, so 02:30 does not exist that day.
        var cron = Cron("30 2 * * *", "America/New_York");

        var before = OccurrencePlanner.NextDue(cron, Utc("2027-03-13T00:00:00"));
        var gapDay = OccurrencePlanner.NextDue(cron, before!.Value);
        var after = OccurrencePlanner.NextDue(cron, gapDay!.Value);

        Assert.Equal(Utc("2027-03-13T07:30:00"), before);   // 02:30 EST
        Assert.Equal(Utc("2027-03-14T07:00:00"), gapDay);   // 03:00 EDT, the first moment after the gap
        Assert.Equal(Utc("2027-03-15T06:30:00"), after);    // 02:30 EDT
        var plan = OccurrencePlanner.Plan(cron, before.Value, Utc("2027-03-14T07:00:00.2"), null, 100);
        Assert.Equal(gapDay, plan.Fire);
        Assert.Empty(plan.Missed);
    }

    [Fact]
    public void Spring_forward_in_berlin_moves_02_30_to_03_00_CEST()
    {
        // 2027-03-28: 02:00 CET becomes 03:00 CEST.
        var next = OccurrencePlanner.NextDue(Cron("30 2 * * *", "Europe/Berlin"), Utc("2027-03-27T02:00:00"));

        Assert.Equal(Utc("2027-03-28T01:00:00"), next);
    }

    [Fact]
    public void Fall_back_in_new_york_runs_a_time_in_the_overlap_once()
    {
        // 2027-11-07: 02:00 EDT becomes 01:00 EST, so 01:30 happens twice (05:30Z and 06:30Z).
        var cron = Cron("30 1 * * *", "America/New_York");

        var first = OccurrencePlanner.NextDue(cron, Utc("2027-11-07T00:00:00"));
        var next = OccurrencePlanner.NextDue(cron, first!.Value);

        Assert.Equal(Utc("2027-11-07T05:30:00"), first);
        Assert.Equal(Utc("2027-11-08T06:30:00"), next);
        var plan = OccurrencePlanner.Plan(cron, first.Value, Utc("2027-11-07T06:30:00.5"), null, 100);
        Assert.Same(OccurrencePlan.Nothing, plan);
    }

    [Fact]
    public void Fall_back_in_new_york_runs_an_interval_expression_in_both_offsets()
    {
        var cron = Cron("0 */30 1 * * *", "America/New_York");

        var occurrences = new List<DateTimeOffset>();
        var since = Utc("2027-11-07T04:00:00");
        while (OccurrencePlanner.NextDue(cron, since) is { } next && next < Utc("2027-11-07T08:00:00"))
        {
            occurrences.Add(next);
            since = next;
        }

        Assert.Equal(
            [Utc("2027-11-07T05:00:00"), Utc("2027-11-07T05:30:00"), Utc("2027-11-07T06:00:00"), Utc("2027-11-07T06:30:00")],
            occurrences);
    }

    [Fact]
    public void Fall_back_in_berlin_runs_02_30_once_at_CEST()
    {
        // 2027-10-31: 03:00 CEST becomes 02:00 CET, so 02:30 happens at 00:30Z and 01:30Z.
        var cron = Cron("30 2 * * *", "Europe/Berlin");

        var first = OccurrencePlanner.NextDue(cron, Utc("2027-10-30T12:00:00"));
        Assert.Equal(Utc("2027-10-31T00:30:00"), first);
        Assert.Equal(Utc("2027-11-01T01:30:00"), OccurrencePlanner.NextDue(cron, first!.Value));
    }

    [Fact]
    public void A_downtime_across_the_spring_forward_gap_fires_the_moved_occurrence_once()
    {
        var cron = Cron("0 */30 * * * *", "America/New_York");

        var plan = OccurrencePlanner.Plan(cron, Utc("2027-03-14T06:00:00"), Utc("2027-03-14T07:10:00"), null, 100);

        // 01:30 EST (06:30Z) was missed; 02:00 and 02:30 do not exist; 03:00 EDT (07:00Z) fires.
        Assert.Equal(Utc("2027-03-14T07:00:00"), plan.Fire);
        Assert.Equal([Utc("2027-03-14T06:30:00")], plan.Missed.Select(m => m.At));
    }

    [Fact]
    public void The_same_wall_time_in_two_time_zones_is_two_different_instants()
    {
        var berlin = OccurrencePlanner.NextDue(Cron("0 9 * * *", "Europe/Berlin"), Utc("2027-01-15T00:00:00"));
        var newYork = OccurrencePlanner.NextDue(Cron("0 9 * * *", "America/New_York"), Utc("2027-01-15T00:00:00"));

        Assert.Equal(Utc("2027-01-15T08:00:00"), berlin);
        Assert.Equal(Utc("2027-01-15T14:00:00"), newYork);
    }
}
