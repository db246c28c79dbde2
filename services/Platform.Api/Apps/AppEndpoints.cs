using System.Text.RegularExpressions;
using Marten;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Platform.Api.Http;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Apps;

/// <summary>Registering, changing, reading and deleting apps: <c>/v3/apps</c>.</summary>
internal static partial class AppEndpoints
{
    public sealed record RegisterApp(
        string? Name, string? Command, Dictionary<string, string>? Env, int? MemoryInMb, int? DiskInMb,
        Dictionary<string, string>? SecretEnv = null, bool? TasksOnly = null, string? Image = null, int? TaskMaxAttempts = null,
        AppRetention? Retention = null);

    /// <summary>
    /// A partial update: absent fields stay as they are; in <c>secret_env</c> a null value unsets; a
    /// <c>retention</c> object replaces the app's retention limits as a whole.
    /// </summary>
    public sealed record UpdateApp(
        string? Command, int? MemoryInMb, int? DiskInMb, Dictionary<string, string?>? SecretEnv, bool? TasksOnly, string? Image,
        int? TaskMaxAttempts = null, AppRetention? Retention = null);

    public static RouteGroupBuilder MapApps(this RouteGroupBuilder v3)
    {
        v3.MapPost("/apps", Register).Describe("CreateApp", 400, 409, 422).Produces<AppResource>(StatusCodes.Status201Created);
        v3.MapGet("/apps", List).Describe("ListApps", 422).Produces<Page<AppResource>>();
        v3.MapGet("/apps/{name}", Get).Describe("GetApp", 404).Produces<AppResource>();
        v3.MapPatch("/apps/{name}", Update).Describe("UpdateApp", 400, 404, 422).Produces<AppResource>();
        v3.MapDelete("/apps/{name}", Delete).Describe("DeleteApp", 404, 409).Produces(StatusCodes.Status204NoContent);
        v3.MapAppEnvironment();
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
        ValidateSettings(errors, request.Command, request.MemoryInMb, request.DiskInMb, request.Env?.Keys, request.SecretEnv?.Keys, request.TaskMaxAttempts, request.Retention);
        return errors;
    }

    public static Dictionary<string, string[]> Validate(UpdateApp request)
    {
        var errors = new Dictionary<string, string[]>();
        ValidateSettings(errors, request.Command, request.MemoryInMb, request.DiskInMb, null, request.SecretEnv?.Keys, request.TaskMaxAttempts, request.Retention);
        return errors;
    }

    private static void ValidateSettings(
        Dictionary<string, string[]> errors, string? command, int? memory, int? disk, IEnumerable<string>? env, IEnumerable<string>? secretEnv,
        int? taskMaxAttempts, AppRetention? retention)
    {
        foreach (var (field, error) in retention?.Errors() ?? [])
            errors[$"retention.{field}"] = [error];
        if (taskMaxAttempts is < 1 or > TaskDefinition.MaxMaxAttempts)
            errors["task_max_attempts"] = [$"task_max_attempts must be between 1 and {TaskDefinition.MaxMaxAttempts}."];
        if (command is { Length: > TaskDefinition.MaxCommandLength })
            errors["command"] = [$"command must be at most {TaskDefinition.MaxCommandLength} characters."];
        if (TaskDefinition.LimitError("memory_in_mb", memory, TaskDefinition.MaxMemoryInMb) is { } memoryError)
            errors["memory_in_mb"] = [memoryError];
        if (TaskDefinition.LimitError("disk_in_mb", disk, TaskDefinition.MaxDiskInMb) is { } diskError)
            errors["disk_in_mb"] = [diskError];
        if (env is not null && EnvironmentNames.Invalid(env) is { } envError)
            errors["env"] = [envError];
        if (secretEnv is not null && EnvironmentNames.Invalid(secretEnv) is { } secretError)
            errors["secret_env"] = [secretError];
    }

    private static async Task<IResult> Register(
        RegisterApp request, IDocumentSession session, IOptions<AppDefaultsOptions> defaults, TimeProvider clock, CancellationToken ct)
    {
        var errors = Validate(request);
        if (errors.Count > 0) return Problems.Invalid(errors);
        var now = clock.GetUtcNow();
        var app = new App
        {
            Name = request.Name!,
            Command = request.Command ?? "",
            Env = request.Env ?? new(),
            SecretEnv = request.SecretEnv ?? new(),
            MemoryInMb = request.MemoryInMb ?? defaults.Value.DefaultMemoryInMb,
            DiskInMb = request.DiskInMb ?? defaults.Value.DefaultDiskInMb,
            TasksOnly = request.TasksOnly ?? false,
            TaskMaxAttempts = request.TaskMaxAttempts ?? 1,
            Image = request.Image,
            Retention = request.Retention,
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

    private static async Task<IResult> List(IQuerySession session, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        var total = await session.Query<App>().CountAsync(ct);
        var apps = await session.Query<App>().OrderBy(a => a.Name).Skip(request.Skip).Take(request.PerPage).ToListAsync(ct);
        return TypedResults.Ok(Page<AppResource>.Of(apps.Select(AppResource.From).ToList(), total, request, "/v3/apps"));
    }

    private static async Task<IResult> Get(string name, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<App>(name, ct) is { } app ? TypedResults.Ok(AppResource.From(app)) : Problems.NotFound("App", name);

    private static async Task<IResult> Update(string name, UpdateApp request, IDocumentStore store, TimeProvider clock, CancellationToken ct)
    {
        var errors = Validate(request);
        if (errors.Count > 0) return Problems.Invalid(errors);
        return await AppChanges.ApplyAsync(store, name, clock, app =>
        {
            app.Command = request.Command ?? app.Command;
            app.MemoryInMb = request.MemoryInMb ?? app.MemoryInMb;
            app.DiskInMb = request.DiskInMb ?? app.DiskInMb;
            app.TasksOnly = request.TasksOnly ?? app.TasksOnly;
            app.TaskMaxAttempts = request.TaskMaxAttempts ?? app.TaskMaxAttempts;
            app.Retention = request.Retention ?? app.Retention;
            app.Image = request.Image ?? app.Image;
            AppChanges.Merge(app.SecretEnv, request.SecretEnv);
        }, app => TypedResults.Ok(AppResource.From(app)), ct);
    }

    /// <summary>409 while the app has unfinished tasks, unless <c>force=true</c>: then they are terminated first.</summary>
    private static async Task<IResult> Delete(string name, bool? force, AppDeletion deletion, CancellationToken ct) =>
        await deletion.DeleteAsync(name, force ?? false, ct) switch
        {
            AppDeletion.Result.NotFound => Problems.NotFound("App", name),
            AppDeletion.Result.HasUnfinishedTasks => Problems.Conflict($"App '{name}' has tasks that have not ended; cancel them, or delete with ?force=true to terminate them first."),
            AppDeletion.Result.TasksDidNotEnd => Problems.Conflict($"App '{name}' still has tasks that did not end after being terminated; try again."),
            _ => TypedResults.NoContent(),
        };

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,62}$")]
    internal static partial Regex NamePattern();
}
