using Marten;
using Platform.TaskStore.Tasks;

namespace Platform.TaskStore.Jobs;

/// <summary>What a job's task inherits from the job; the rest comes from the app, as for any task.</summary>
public static class JobTasks
{
    /// <summary>Each task of a job is named after the job, so that the app's task list shows where it came from.</summary>
    public static TaskOverrides Overrides(Job job) => new(job.Command, job.Name, job.MemoryInMb, job.DiskInMb, null);

    /// <summary>The ids of the job's tasks that have not ended, which its concurrency policy looks at.</summary>
    public static Task<IReadOnlyList<Guid>> UnfinishedAsync(IQuerySession session, string job, CancellationToken ct) =>
        session.Query<AppTask>().Where(t => t.Job == job && t.State.In(TaskStateNames.Unfinished)).Select(t => t.Id).ToListAsync(ct);
}
