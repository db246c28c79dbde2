using Marten;
using Microsoft.Extensions.Caching.Memory;
using Platform.Api.Http;
using Platform.TaskStore.Access;

namespace Platform.Api.Access;

/// <summary>
/// Role bindings (<c>/v3/roles</c>, as Cloud Foundry's): a role for a subject in a space, or admin
/// everywhere. Managed by admins; anyone lists its own, and <c>GET /v3/me</c> says who the caller is.
/// </summary>
internal static class RoleEndpoints
{
    public sealed record CreateRole(string? Type, string? Subject, string? Space);

    internal sealed record RoleResource(Guid Guid, string Type, string Subject, string? Space, DateTimeOffset CreatedAt, string CreatedBy)
    {
        public static RoleResource From(RoleBinding b) => new(b.Id, b.Role.ToString().ToLowerInvariant(), b.Subject, b.Space, b.CreatedAt, b.CreatedBy);
    }

    public static RouteGroupBuilder MapRoles(this RouteGroupBuilder v3)
    {
        v3.MapPost("/roles", Create).Produces(201).Describe("CreateRole", 401, 403, 404, 422);
        v3.MapGet("/roles", List).Produces(200).Describe("ListRoles", 401);
        v3.MapDelete("/roles/{guid:guid}", Delete).Produces(204).Describe("DeleteRole", 401, 403, 404);
        v3.MapGet("/me", Me).Produces(200).Describe("GetMe", 401);
        return v3;
    }

    private static async Task<IResult> Create(CreateRole request, Caller caller, IDocumentSession session, IMemoryCache cache, TimeProvider clock, CancellationToken ct)
    {
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        var errors = new Dictionary<string, string[]>();
        if (!Enum.TryParse<Role>(request.Type, ignoreCase: true, out var role) || !Enum.IsDefined(role))
            errors["type"] = ["type must be admin, developer, supporter or auditor."];
        if (string.IsNullOrWhiteSpace(request.Subject) || !request.Subject.Contains(':'))
            errors["subject"] = ["subject must be a typed subject: user:<id>, service-account:<name> or mesh:<identity>."];
        if (role == Role.Admin && request.Space is not null) errors["space"] = ["admin is a global role: leave space out."];
        if (role != Role.Admin && string.IsNullOrWhiteSpace(request.Space)) errors["space"] = ["space is required for this role."];
        if (errors.Count > 0) return Problems.Invalid(errors);
        if (request.Space is { } space && await session.LoadAsync<Space>(space, ct) is null) return Problems.Invalid("space", $"No space '{space}' exists.");

        var binding = new RoleBinding
        {
            Id = Guid.NewGuid(), Subject = request.Subject!, Role = role, Space = role == Role.Admin ? null : request.Space,
            CreatedAt = clock.GetUtcNow(), CreatedBy = caller.Subject,
        };
        session.Insert(binding);
        await session.SaveChangesAsync(ct);
        Caller.Forget(cache, binding.Subject);
        return TypedResults.Created($"/v3/roles/{binding.Id}", RoleResource.From(binding));
    }

    /// <summary>An admin sees every binding (<c>?space=</c> and <c>?subject=</c> filter); anyone else its own.</summary>
    private static async Task<IResult> List(Caller caller, IQuerySession session, string? space, string? subject, CancellationToken ct)
    {
        var query = session.Query<RoleBinding>().AsQueryable();
        if (!caller.IsAdmin) query = query.Where(b => b.Subject == caller.Subject);
        if (space is not null) query = query.Where(b => b.Space == space);
        if (subject is not null) query = query.Where(b => b.Subject == subject);
        var bindings = await query.OrderBy(b => b.CreatedAt).Take(PageRequest.MaxPerPage).ToListAsync(ct);
        return TypedResults.Ok(new { Resources = bindings.Select(RoleResource.From).ToList() });
    }

    private static async Task<IResult> Delete(Guid guid, Caller caller, IDocumentSession session, IMemoryCache cache, CancellationToken ct)
    {
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        if (await session.LoadAsync<RoleBinding>(guid, ct) is not { } binding) return Problems.NotFound("Role", guid.ToString());
        session.Delete(binding);
        await session.SaveChangesAsync(ct);
        Caller.Forget(cache, binding.Subject);
        return TypedResults.NoContent();
    }

    private static IResult Me(Caller caller) => TypedResults.Ok(new
    {
        caller.Subject,
        caller.Means,
        Admin = caller.IsAdmin,
        Spaces = caller.Grants.Spaces.OrderBy(s => s.Key).ToDictionary(s => s.Key, s => s.Value.ToString().ToLowerInvariant()),
    });
}
