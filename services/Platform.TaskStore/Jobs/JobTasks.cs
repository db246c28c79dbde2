using Platform.TaskStore.Tasks;

namespace Platform.TaskStore.Jobs;

/// <summary>What a job's task inherits from the job; the rest comes from the app, as for any task.</summary>
public static class JobTasks
{
    /// <summary>Each task of a job is named after the job, so that the app's task list shows where it came from.</summary>
    public static TaskOverrides Overrides(Job job) => new(job.Command, job.Name, job.MemoryInMb, job.DiskInMb, null);
}
