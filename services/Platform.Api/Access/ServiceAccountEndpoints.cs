using Marten;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Platform.Api.Apps;
using Platform.Api.Http;
using Platform.TaskStore.Access;

namespace Platform.Api.Access;

/// <summary>
/// Service accounts and their tokens (<c>/v3/service_accounts</c>), admins only. A token is shown once, in
/// the answer that creates it; only its hash is stored. Deleting an account revokes its tokens and removes its roles.
/// </summary>
internal static class ServiceAccountEndpoints
{
    public sealed record CreateAccount(string? Name, string? RabbitmqUser);

    public sealed record CreateToken(int? ExpiresInDays);

    internal sealed record AccountResource(string Name, string Subject, string? RabbitmqUser, DateTimeOffset CreatedAt, string CreatedBy)
    {
        public static AccountResource From(ServiceAccount a) => new(a.Name, Subjects.ServiceAccount(a.Name), a.RabbitMqUser, a.CreatedAt, a.CreatedBy);
    }

    internal sealed record TokenResource(Guid Guid, string Account, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? RevokedAt, string? Token = null)
    {
        public static TokenResource From(AccessToken t, string? token = null) => new(t.Id, t.Account, t.CreatedAt, t.ExpiresAt, t.RevokedAt, token);
    }

    public static RouteGroupBuilder MapServiceAccounts(this RouteGroupBuilder v3)
    {
        v3.MapPost("/service_accounts", Create).Produces(201).Describe("CreateServiceAccount", 401, 403, 409, 422);
        v3.MapGet("/service_accounts", List).Produces(200).Describe("ListServiceAccounts", 401, 403);
        v3.MapGet("/service_accounts/{account}", Get).Produces(200).Describe("GetServiceAccount", 401, 403, 404);
        v3.MapDelete("/service_accounts/{account}", Delete).Produces(204).Describe("DeleteServiceAccount", 401, 403, 404);
        v3.MapPost("/service_accounts/{account}/tokens", Issue).Produces(201).Describe("IssueToken", 401, 403, 404, 422);
        v3.MapGet("/service_accounts/{account}/tokens", Tokens).Produces(200).Describe("ListTokens", 401, 403, 404);
        v3.MapDelete("/service_accounts/{account}/tokens/{guid:guid}", Revoke).Produces(204).Describe("RevokeToken", 401, 403, 404);
        return v3;
    }

    private static async Task<IResult> Create(CreateAccount request, Caller caller, IDocumentSession session, TimeProvider clock, CancellationToken ct)
    {
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        if (!ResourceNames.IsValid(request.Name)) return Problems.Invalid("name", ResourceNames.Rule);
        if (request.RabbitmqUser is { } user && await session.Query<ServiceAccount>().AnyAsync(a => a.RabbitMqUser == user, ct))
            return Problems.Conflict($"RabbitMQ user '{user}' is already mapped to another service account.");
        var account = new ServiceAccount { Name = request.Name, RabbitMqUser = request.RabbitmqUser, CreatedAt = clock.GetUtcNow(), CreatedBy = caller.Subject };
        return await Creation.InsertAsync(session, account, $"A service account named '{account.Name}' already exists.",
            () => TypedResults.Created($"/v3/service_accounts/{account.Name}", AccountResource.From(account)), ct);
    }

    private static async Task<IResult> List(Caller caller, IQuerySession session, CancellationToken ct)
    {
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        var accounts = await session.Query<ServiceAccount>().OrderBy(a => a.Name).Take(PageRequest.MaxPerPage).ToListAsync(ct);
        return TypedResults.Ok(new { Resources = accounts.Select(AccountResource.From).ToList() });
    }

    private static async Task<IResult> Get(string account, Caller caller, IQuerySession session, CancellationToken ct)
    {
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        return await session.LoadAsync<ServiceAccount>(account, ct) is { } found ? TypedResults.Ok(AccountResource.From(found)) : Problems.NotFound("Service account", account);
    }

    private static async Task<IResult> Delete(string account, Caller caller, IDocumentSession session, IMemoryCache cache, TimeProvider clock, CancellationToken ct)
    {
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        if (await session.LoadAsync<ServiceAccount>(account, ct) is null) return Problems.NotFound("Service account", account);
        var subject = Subjects.ServiceAccount(account);
        var tokens = await session.Query<AccessToken>().Where(t => t.Account == account).ToListAsync(ct);
        foreach (var token in tokens) session.Delete(token);
        session.DeleteWhere<RoleBinding>(b => b.Subject == subject);
        session.Delete<ServiceAccount>(account);
        await session.SaveChangesAsync(ct);
        foreach (var token in tokens) PlatformTokenHandler.Forget(cache, token.Id);
        Caller.Forget(cache, subject);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> Issue(
        string account, CreateToken? request, Caller caller, IDocumentSession session, IOptions<AccessOptions> options, TimeProvider clock, CancellationToken ct)
    {
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        if (await session.LoadAsync<ServiceAccount>(account, ct) is null) return Problems.NotFound("Service account", account);
        var days = request?.ExpiresInDays ?? options.Value.DefaultTokenLifetimeDays;
        if (days is < 1 or > 3650) return Problems.Invalid("expires_in_days", "expires_in_days must be between 1 and 3650.");
        var (stored, token) = AccessToken.Issue(account, clock.GetUtcNow(), TimeSpan.FromDays(days), caller.Subject);
        session.Insert(stored);
        await session.SaveChangesAsync(ct);
        return TypedResults.Created($"/v3/service_accounts/{account}/tokens/{stored.Id}", TokenResource.From(stored, token));
    }

    private static async Task<IResult> Tokens(string account, Caller caller, IQuerySession session, CancellationToken ct)
    {
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        if (await session.LoadAsync<ServiceAccount>(account, ct) is null) return Problems.NotFound("Service account", account);
        var tokens = await session.Query<AccessToken>().Where(t => t.Account == account).OrderBy(t => t.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(new { Resources = tokens.Select(t => TokenResource.From(t)).ToList() });
    }

    private static async Task<IResult> Revoke(string account, Guid guid, Caller caller, IDocumentSession session, IMemoryCache cache, TimeProvider clock, CancellationToken ct)
    {
        if (caller.RefuseUnlessAdmin() is { } refused) return refused;
        if (await session.LoadAsync<AccessToken>(guid, ct) is not { } token || token.Account != account) return Problems.NotFound("Token", guid.ToString());
        token.RevokedAt ??= clock.GetUtcNow();
        session.Update(token);
        await session.SaveChangesAsync(ct);
        PlatformTokenHandler.Forget(cache, guid);
        return TypedResults.NoContent();
    }
}
