using Marten;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Access;
using Platform.Api.Http;
using Platform.TaskStore.Audit;

namespace Platform.Api.Audit;

/// <summary>
/// <c>GET /v3/audit_events</c>, as Cloud Foundry's: who changed which app or job, and how (task histories
/// carry their own actors, in <c>GET /v3/tasks/{guid}/events</c>). Any role in a space reads its entries.
/// </summary>
internal static class AuditEndpoints
{
    internal sealed record AuditEventResource(Guid Guid, string Type, DateTimeOffset CreatedAt, string Actor, AuditTarget Target, string Space);

    internal sealed record AuditTarget(string Type, string Name);

    public static RouteGroupBuilder MapAuditEvents(this RouteGroupBuilder v3)
    {
        v3.MapGet("/audit_events", List).Describe("ListAuditEvents", 422).Produces<Page<AuditEventResource>>();
        return v3;
    }

    /// <summary>
    /// The entries of the spaces the caller has a role in (every space for an admin), newest first;
    /// <c>?space=</c> and <c>?target_name=</c> narrow them. A space the caller has no role in lists nothing.
    /// </summary>
    private static async Task<IResult> List(
        Caller caller, IQuerySession session, string? space, [FromQuery(Name = "target_name")] string? targetName,
        int? page, [FromQuery(Name = "per_page")] int? perPage, CancellationToken ct)
    {
        if (!PageRequest.TryRead(page, perPage, out var request, out var problem)) return problem!;
        var entries = session.Query<AuditEntry>().AsQueryable();
        if (caller.VisibleSpaces is { } visible) entries = entries.Where(e => e.Space.IsOneOf(visible.ToArray()));
        if (!string.IsNullOrEmpty(space)) entries = entries.Where(e => e.Space == space);
        if (!string.IsNullOrEmpty(targetName)) entries = entries.Where(e => e.TargetName == targetName);
        var total = await entries.CountAsync(ct);
        var found = await entries.OrderByDescending(e => e.At).ThenByDescending(e => e.Id).Skip(request.Skip).Take(request.PerPage).ToListAsync(ct);
        var resources = found.Select(e => new AuditEventResource(e.Id, e.Type, e.At, e.Actor, new AuditTarget(e.TargetType, e.TargetName), e.Space)).ToList();
        return TypedResults.Ok(Page<AuditEventResource>.Of(resources, total, request, "/v3/audit_events"));
    }
}
