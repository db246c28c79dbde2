using System.Text.RegularExpressions;
using Marten;
using Platform.Api.Http;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Apps;

/// <summary>Registering an app, and reading apps back: <c>/v3/apps</c>.</summary>
internal static partial class AppEndpoints
{
    public const int DefaultMemoryInMb = 256;
    public const int DefaultDiskInMb = 1024;

    public sealed record RegisterApp(string? Name, string? Command, Dictionary<string, string>? Env, int? MemoryInMb, int? DiskInMb);

    public static RouteGroupBuilder MapApps(this RouteGroupBuilder v3)
    {
        v3.MapPost("/apps", Register);
        v3.MapGet("/apps", List);
        v3.MapGet("/apps/{name}", Get);
        return v3;
    }

    /// <summary>Field errors of a registration; empty when it is valid.</summary>
    public static Dictionary<string, string[]> Validate(RegisterApp request)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Name))
            errors["name"] = ["name is required."];
        else if (!NamePattern().IsMatch(request.Name))
            errors["name"] = ["name must be 1 to 63 lower-case letters, digits and '-', starting with a letter or digit."];
        if (request.Command is { Length: > TaskDefinition.MaxCommandLength })
            errors["command"] = [$"command must be at most {TaskDefinition.MaxCommandLength} characters."];
        if (TaskDefinition.LimitError("memory_in_mb", request.MemoryInMb, TaskDefinition.MaxMemoryInMb) is { } memory)
            errors["memory_in_mb"] = [memory];
        if (TaskDefinition.LimitError("disk_in_mb", request.DiskInMb, TaskDefinition.MaxDiskInMb) is { } disk)
            errors["disk_in_mb"] = [disk];
        if (request.Env is not null && EnvironmentNames.Invalid(request.Env.Keys) is { } env)
            errors["env"] = [env];
        return errors;
    }

    private static async Task<IResult> Register(RegisterApp request, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        var errors = Validate(request);
        if (errors.Count > 0) return Problems.Invalid(errors);
        var now = clock.GetUtcNow();
        var app = new App
        {
            Name = request.Name!,
            Command = request.Command ?? "",
            Env = request.Env ?? new(),
            MemoryInMb = request.MemoryInMb ?? DefaultMemoryInMb,
            DiskInMb = request.DiskInMb ?? DefaultDiskInMb,
            CreatedAt = now,
            UpdatedAt = now,
        };
        // Insert, not upsert: a second registration of the same name is a conflict, never a silent overwrite.
        session.Insert(app);
        try
        {
            await session.SaveChangesAsync(ct);
        }
        catch (JasperFx.DocumentAlreadyExistsException)
        {
            return Problems.Conflict($"An app named '{app.Name}' already exists.");
        }
        return TypedResults.Created($"/v3/apps/{app.Name}", AppResource.From(app));
    }

    private static async Task<IResult> List(IQuerySession session, int? page, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        var total = await session.Query<App>().CountAsync(ct);
        var apps = await session.Query<App>().OrderBy(a => a.Name).Skip(request.Skip).Take(request.PerPage).ToListAsync(ct);
        return TypedResults.Ok(Page<AppResource>.Of(apps.Select(AppResource.From).ToList(), total, request, "/v3/apps"));
    }

    private static async Task<IResult> Get(string name, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<App>(name, ct) is { } app ? TypedResults.Ok(AppResource.From(app)) : Problems.NotFound("App", name);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    internal static partial Regex NamePattern();
}
