using Marten;
using Platform.Api.Access;
using Platform.Api.Http;
using Platform.TaskStore.Access;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Tasks;

namespace Platform.Api.Apps;

/// <summary>Cloud Foundry's <c>/v3/apps/{app}/environment_variables</c>: <c>{"var": {...}}</c>, where a null value unsets.</summary>
internal static class AppEnvironmentEndpoints
{
    public sealed record EnvironmentVariables(Dictionary<string, string?>? Var);

    public static RouteGroupBuilder MapAppEnvironment(this RouteGroupBuilder v3)
    {
        v3.MapGet("/apps/{name}/environment_variables", Get).Describe("GetAppEnvironmentVariables", 404).Produces<EnvironmentVariablesResource>();
        v3.MapPatch("/apps/{name}/environment_variables", Update).Describe("UpdateAppEnvironmentVariables", 400, 404, 422).Produces<EnvironmentVariablesResource>();
        return v3;
    }

    private static async Task<IResult> Get(string name, Caller caller, IQuerySession session, CancellationToken ct)
    {
        if (await session.LoadAsync<App>(name, ct) is not { } app) return Problems.NotFound("App", name);
        return await caller.RefuseAsync(app.Space, Permission.SeeEnvironmentValues, "App", name, ct) ?? TypedResults.Ok(Resource(app));
    }

    private static async Task<IResult> Update(
        string name, EnvironmentVariables request, Caller caller, IQuerySession query, IDocumentStore store, TimeProvider clock, CancellationToken ct)
    {
        if (await AppEndpoints.RefuseAsync(name, Permission.ManageApps, caller, query, ct) is { } refused) return refused;
        if (request.Var is null) return Problems.Invalid("var", "var is required: an object of variable names to values (null unsets).");
        if (EnvironmentNames.Invalid(request.Var.Keys) is { } invalid) return Problems.Invalid("var", invalid);
        return await AppChanges.ApplyAsync(store, name, "environment_variables.update", caller.Description, clock, app => AppChanges.Merge(app.Env, request.Var), app => TypedResults.Ok(Resource(app)), ct);
    }

    internal sealed record EnvironmentVariablesResource(IReadOnlyDictionary<string, string> Var, EnvironmentVariablesLinks Links);

    internal sealed record EnvironmentVariablesLinks(Link App);

    private static EnvironmentVariablesResource Resource(App app) => new(app.Env, new EnvironmentVariablesLinks(new Link($"/v3/apps/{app.Name}")));
}
