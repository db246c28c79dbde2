using Marten;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Platform.Api.Access;
using Platform.Api.Http;
using Platform.TaskStore.Access;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Audit;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Apps;

/// <summary>Registering, changing, reading and deleting apps: <c>/v3/apps</c>.</summary>
internal static class AppEndpoints
{
    public sealed record RegisterApp(
        string? Name, string? Command, Dictionary<string, string>? Env, int? MemoryInMb, int? DiskInMb,
        Dictionary<string, string>? SecretEnv = null, bool? TasksOnly = null, string? Image = null, int? TaskMaxAttempts = null,
        AppRetention? Retention = null, string? Space = null, int? PidsLimit = null, AppNetwork? Network = null);

    /// <summary>
    /// A partial update: absent fields stay as they are; in <c>secret_env</c> a null value unsets; a
    /// <c>retention</c> object replaces the app's retention limits as a whole.
    /// </summary>
    public sealed record UpdateApp(
        string? Command, int? MemoryInMb, int? DiskInMb, Dictionary<string, string?>? SecretEnv, bool? TasksOnly, string? Image,
        int? TaskMaxAttempts = null, AppRetention? Retention = null, int? PidsLimit = null, AppNetwork? Network = null);

    // A shell and a few children need a handful; a build with parallel jobs a few hundred.
    public const int MinPidsLimit = 8, MaxPidsLimit = 32768;

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
        if (ResourceNames.Problem(request.Name) is { } problem) errors["name"] = [problem];
        ValidateSettings(errors, request.Command, request.MemoryInMb, request.DiskInMb, request.Env?.Keys, request.SecretEnv?.Keys, request.TaskMaxAttempts, request.Retention);
        ValidateSandbox(errors, request.PidsLimit, request.Network);
        return errors;
    }

    public static Dictionary<string, string[]> Validate(UpdateApp request)
    {
        var errors = new Dictionary<string, string[]>();
        ValidateSettings(errors, request.Command, request.MemoryInMb, request.DiskInMb, null, request.SecretEnv?.Keys, request.TaskMaxAttempts, request.Retention);
        ValidateSandbox(errors, request.PidsLimit, request.Network);
        return errors;
    }

    private static void ValidateSandbox(Dictionary<string, string[]> errors, int? pidsLimit, AppNetwork? network)
    {
        if (pidsLimit is < MinPidsLimit or > MaxPidsLimit)
            errors["pids_limit"] = [$"pids_limit must be between {MinPidsLimit} and {MaxPidsLimit}."];
        foreach (var (field, error) in network?.Errors() ?? [])
            errors[$"network.{field}"] = [error];
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
        RegisterApp request, Caller caller, IDocumentSession session, SecretKeyRing secrets, IOptions<AppDefaultsOptions> defaults, TimeProvider clock,
        CancellationToken ct)
    {
        // The space first: a caller with no role in it learns nothing, not even whether its request was valid.
        var space = string.IsNullOrWhiteSpace(request.Space) ? TaskStore.Access.Space.DefaultName : request.Space;
        if (await caller.RefuseAsync(space, Permission.ManageApps, "Space", space, ct) is { } refused) return refused;
        if (await session.LoadAsync<TaskStore.Access.Space>(space, ct) is null) return Problems.Invalid("space", $"No space '{space}' exists.");
        var errors = Validate(request);
        if (errors.Count > 0) return Problems.Invalid(errors);
        var now = clock.GetUtcNow();
        var app = new App
        {
            Name = request.Name!,
            Space = space,
            Command = request.Command ?? "",
            Env = request.Env ?? new(),
            // Encrypted here, before anything is written: PostgreSQL never holds a secret value in plain text.
            SecretEnv = (request.SecretEnv ?? new()).ToDictionary(s => s.Key, s => secrets.Encrypt(request.Name!, s.Key, s.Value)),
            MemoryInMb = request.MemoryInMb ?? defaults.Value.DefaultMemoryInMb,
            DiskInMb = request.DiskInMb ?? defaults.Value.DefaultDiskInMb,
            TasksOnly = request.TasksOnly ?? false,
            TaskMaxAttempts = request.TaskMaxAttempts ?? 1,
            Image = request.Image,
            Retention = request.Retention,
            PidsLimit = request.PidsLimit,
            Network = request.Network,
            CreatedAt = now,
            UpdatedAt = now,
        };
        AuditEntry.ForApp(session, "create", app.Name, space, caller.Description, now);
        return await Creation.InsertAsync(session, app, $"An app named '{app.Name}' already exists.",
            () => TypedResults.Created($"/v3/apps/{app.Name}", AppResource.From(app, caller)), ct);
    }

    /// <summary>The apps of the spaces the caller has a role in (every app for an admin).</summary>
    private static async Task<IResult> List(Caller caller, IQuerySession session, int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        var query = session.Query<App>().AsQueryable();
        if (caller.VisibleSpaces is { } visible) query = query.Where(a => a.Space.IsOneOf(visible.ToArray()));
        var total = await query.CountAsync(ct);
        var apps = await query.OrderBy(a => a.Name).Skip(request.Skip).Take(request.PerPage).ToListAsync(ct);
        return TypedResults.Ok(Page<AppResource>.Of(apps.Select(a => AppResource.From(a, caller)).ToList(), total, request, "/v3/apps"));
    }

    private static async Task<IResult> Get(string name, Caller caller, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<App>(name, ct) is not { } app) return Problems.NotFound("App", name);
        return await caller.RefuseAsync(app.Space, Permission.ReadApps, "App", name, ct) ?? TypedResults.Ok(AppResource.From(app, caller));
    }

    /// <summary>404 for an app the caller cannot see, 403 when its role may not do <paramref name="permission"/>; null when it may.</summary>
    internal static async Task<IResult?> RefuseAsync(string name, Permission permission, Caller caller, IQuerySession session, CancellationToken ct) =>
        await session.LoadAsync<App>(name, ct) is { } app ? await caller.RefuseAsync(app.Space, permission, "App", name, ct) : Problems.NotFound("App", name);

    private static async Task<IResult> Update(
        string name, UpdateApp request, Caller caller, IQuerySession query, IDocumentStore store, SecretKeyRing secrets, TimeProvider clock, CancellationToken ct)
    {
        if (await RefuseAsync(name, Permission.ManageApps, caller, query, ct) is { } refused) return refused;
        var errors = Validate(request);
        if (errors.Count > 0) return Problems.Invalid(errors);
        return await AppChanges.ApplyAsync(store, name, "update", caller.Description, clock, app =>
        {
            app.Command = request.Command ?? app.Command;
            app.MemoryInMb = request.MemoryInMb ?? app.MemoryInMb;
            app.DiskInMb = request.DiskInMb ?? app.DiskInMb;
            app.TasksOnly = request.TasksOnly ?? app.TasksOnly;
            app.TaskMaxAttempts = request.TaskMaxAttempts ?? app.TaskMaxAttempts;
            app.Retention = request.Retention ?? app.Retention;
            app.Image = request.Image ?? app.Image;
            app.PidsLimit = request.PidsLimit ?? app.PidsLimit;
            app.Network = request.Network ?? app.Network;
            AppChanges.Merge(app.SecretEnv, request.SecretEnv?.ToDictionary(s => s.Key, s => s.Value is null ? null : secrets.Encrypt(app.Name, s.Key, s.Value)));
        }, app => TypedResults.Ok(AppResource.From(app, caller)), ct);
    }

    /// <summary>409 while the app has unfinished tasks, unless <c>force=true</c>: then they are terminated first.</summary>
    private static async Task<IResult> Delete(string name, bool? force, Caller caller, IQuerySession query, AppDeletion deletion, CancellationToken ct) =>
        await RefuseAsync(name, Permission.ManageApps, caller, query, ct) ?? await deletion.DeleteAsync(name, force ?? false, caller.Description, ct) switch
        {
            AppDeletion.Result.NotFound => Problems.NotFound("App", name),
            AppDeletion.Result.HasUnfinishedTasks => Problems.Conflict($"App '{name}' has tasks that have not ended; cancel them, or delete with ?force=true to terminate them first."),
            AppDeletion.Result.TasksDidNotEnd => Problems.Conflict($"App '{name}' still has tasks that did not end after being terminated; try again."),
            _ => TypedResults.NoContent(),
        };
}
