using Marten;
using Platform.Api.Access;
using Platform.Api.Http;
using Platform.TaskStore.Access;
using Platform.Api.Tasks.Deleting;
using Platform.TaskStore.Audit;
using Platform.TaskStore.Jobs;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Jobs;

/// <summary>
/// <c>DELETE /v3/jobs/{job}</c>: the job and everything of it. First the job is marked deleting, so that
/// nothing fires or runs from it again (<see cref="JobGuard"/> makes that exact); then its unfinished tasks
/// are force-terminated and awaited, and its tasks deleted with their streams and logs, as an app's are
/// (<see cref="OwnedTaskDeletion"/>); last the job, its schedules and its occurrences. 204 when all is gone.
/// If a task does not end within <see cref="WaitForTasks"/>, 409: the job stays deleting (it never fires)
/// and a second DELETE finishes the work.
/// </summary>
internal static class JobDeletion
{
    public static readonly TimeSpan WaitForTasks = TimeSpan.FromSeconds(30);

    /// <summary>Deleting a job kills its tasks at once (no grace period): their results are deleted anyway.</summary>
    private const int GracePeriodSeconds = 0;

    public static async Task<IResult> Delete(
        string job, Caller caller, IDocumentStore store, OwnedTaskDeletion tasks, JobChanges changes, TimeProvider clock, CancellationToken ct)
    {
        string space;
        await using (var session = store.LightweightSession())
        {
            if (await session.LoadAsync<Job>(job, ct) is not { } found) return Problems.NotFound("Job", job);
            space = found.Space;
            if (await caller.RefuseAsync(found.Space, Permission.ManageJobs, "Job", job, ct) is { } refused) return refused;
            if (found.State != JobState.Deleting)
            {
                found.State = JobState.Deleting;
                found.UpdatedAt = clock.GetUtcNow();
                // The update waits for any firing that holds the job's row; after it commits, no new task of the job can appear.
                session.Update(found);
                await session.SaveChangesAsync(ct);
                await changes.NotifyAsync(job, ct);
            }
        }

        var unfinished = await tasks.EndAllAsync(t => t.Job == job, $"job {job} was deleted", caller.Description, GracePeriodSeconds, WaitForTasks, ct);
        if (unfinished > 0)
            return Problems.Conflict(
                $"{unfinished} task(s) of job '{job}' did not end within {WaitForTasks.TotalSeconds:0} s. " +
                $"The job is suspended for deletion and never fires; DELETE /v3/jobs/{job} again to finish.");
        await tasks.DeleteEndedAsync(t => t.Job == job, ct);
        await using (var session = store.LightweightSession())
        {
            session.DeleteWhere<JobOccurrence>(o => o.Job == job);
            session.DeleteWhere<ScheduleProgress>(p => p.Job == job);
            session.DeleteWhere<JobSchedule>(s => s.Job == job);
            session.Delete<Job>(job);
            AuditEntry.ForJob(session, "delete", job, space, caller.Description, clock.GetUtcNow());
            await session.SaveChangesAsync(ct);
        }
        await changes.NotifyAsync(job, ct);
        return TypedResults.NoContent();
    }
}
