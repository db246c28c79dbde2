using Marten;
using Microsoft.Extensions.Caching.Memory;
using Platform.Api.Apps;
using Platform.Api.Http;
using Platform.TaskStore.Access;
using Platform.TaskStore.Apps;

namespace Platform.Api.Access;

/// <summary>Spaces (<c>/v3/spaces</c>), managed by admins; anyone sees the spaces it holds a role in.</summary>
internal static class SpaceEndpoints
{
    public sealed record CreateSpace(string? Name, bool? AuditorsReadLogs);

    public sealed record ChangeSpace(bool? AuditorsReadLogs);

    internal sealed record SpaceResource(string Name, bool AuditorsReadLogs, string? Role, DateTimeOffset CreatedAt, string CreatedBy)
    {
        public static SpaceResource From(Space space, Caller caller) => new(
            space.Name, space.AuditorsReadLogs, caller.Grants.RoleIn(space.Name)?.ToString().ToLowerInvariant(), space.CreatedAt, space.CreatedBy);
    }

    public static RouteGroupBuilder MapSpaces(this RouteGroupBuilder v3)
    {
        v3.MapPost("/spaces", Create).Produces(201).Describe("CreateSpace", 401, 403, 409, 422);
        v3.MapGet("/spaces", List).Produces(200).Describe("ListSpaces", 401);
        v3.MapGet("/spaces/{space}", Get).Produces(200).Describe("GetSpace", 401, 404);
        v3.MapPatch("/spaces/{space}", Change).Produces(200).Describe("ChangeSpace", 401, 403, 404, 422);
        v3.MapDelete("/spaces/{space}", Delete).Produces(204).Describe("DeleteSpace", 401, 403, 404, 409);
        return v3;
    }

    private static async Task<IResult> Create(CreateSpace request, Caller caller, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        if (!ResourceNames.IsValid(request.Name)) return Problems.Invalid("name", ResourceNames.Rule);
        var space = new Space { Name = request.Name, AuditorsReadLogs = request.AuditorsReadLogs ?? false, CreatedAt = clock.GetUtcNow(), CreatedBy = caller.Subject };
        return await Creation.InsertAsync(session, space, $"A space named '{space.Name}' already exists.",
            () => TypedResults.Created($"/v3/spaces/{space.Name}", SpaceResource.From(space, caller)), ct);
    }

    private static async Task<IResult> List(Caller caller, IQuerySession session, CancellationToken ct)
    {
        var query = session.Query<Space>().AsQueryable();
        if (caller.VisibleSpaces is { } visible) query = query.Where(s => s.Name.IsOneOf(visible.ToArray()));
        var spaces = await query.OrderBy(s => s.Name).Take(PageRequest.MaxPerPage).ToListAsync(ct);
        return TypedResults.Ok(new { Resources = spaces.Select(s => SpaceResource.From(s, caller)).ToList() });
    }

    private static async Task<IResult> Get(string space, Caller caller, IQuerySession session, CancellationToken ct) =>
        caller.Sees(space) && await session.LoadAsync<Space>(space, ct) is { } found
            ? TypedResults.Ok(SpaceResource.From(found, caller))
            : Problems.NotFound("Space", space);

    private static async Task<IResult> Change(string space, ChangeSpace request, Caller caller, IDocumentSession session, CancellationToken ct)
    {
        if (!caller.Sees(space) || await session.LoadAsync<Space>(space, ct) is not { } found) return Problems.NotFound("Space", space);
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        found.AuditorsReadLogs = request.AuditorsReadLogs ?? found.AuditorsReadLogs;
        session.Update(found);
        await session.SaveChangesAsync(ct);
        return TypedResults.Ok(SpaceResource.From(found, caller));
    }

    /// <summary>409 while apps remain in it; its role bindings go with it.</summary>
    private static async Task<IResult> Delete(string space, Caller caller, IDocumentSession session, IMemoryCache cache, CancellationToken ct)
    {
        if (!caller.Sees(space) || await session.LoadAsync<Space>(space, ct) is null) return Problems.NotFound("Space", space);
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        if (space == Space.DefaultName) return Problems.Conflict("The default space cannot be deleted.");
        if (await session.Query<App>().AnyAsync(a => a.Space == space, ct)) return Problems.Conflict($"Space '{space}' still has apps; delete them first.");
        var bindings = await session.Query<RoleBinding>().Where(b => b.Space == space).ToListAsync(ct);
        foreach (var binding in bindings) session.Delete(binding);
        session.Delete<Space>(space);
        await session.SaveChangesAsync(ct);
        foreach (var binding in bindings) Caller.Forget(cache, binding.Subject);
        return TypedResults.NoContent();
    }
}
