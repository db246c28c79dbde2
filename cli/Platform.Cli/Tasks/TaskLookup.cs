using System.Text.Json.Nodes;
using Platform.Cli.Http;

namespace Platform.Cli.Tasks;

/// <summary>
/// cf names a task by its app and sequence id; the API by its guid. The app's tasks come newest first, so
/// the pages are read until the id is found or passed.
/// </summary>
internal static class TaskLookup
{
    private const int PerPage = 500;

    public static async Task<JsonNode> FindAsync(PlatformClient api, string app, long sequenceId, CancellationToken ct)
    {
        for (var page = 1; ; page++)
        {
            var found = await api.GetAsync($"/v3/apps/{Uri.EscapeDataString(app)}/tasks?page={page}&per_page={PerPage}", ct);
            var tasks = found?["resources"]?.AsArray() ?? [];
            foreach (var task in tasks)
            {
                var id = task!["sequence_id"]!.GetValue<long>();
                if (id == sequenceId) return task;
                if (id < sequenceId) return NotFound(app, sequenceId);
            }
            if (found?["pagination"]?["next"] is null) return NotFound(app, sequenceId);
        }
    }

    public static Guid Guid(JsonNode task) => task["guid"]!.GetValue<Guid>();

    private static JsonNode NotFound(string app, long sequenceId) =>
        throw new CliFailure(ExitCodes.Refused, $"404 app '{app}' has no task {sequenceId}.");
}
