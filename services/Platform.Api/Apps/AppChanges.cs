using Marten;
using Platform.Api.Http;
using Platform.TaskStore.Apps;
using Platform.TaskStore.Audit;

namespace Platform.Api.Apps;

/// <summary>Read-modify-write of an app, retried when another writer changed it in between (optimistic concurrency).</summary>
internal static class AppChanges
{
    /// <summary>Applies <paramref name="change"/>, stored with its audit entry (<paramref name="auditType"/>, by <paramref name="actor"/>).</summary>
    public static async Task<IResult> ApplyAsync(
        IDocumentStore store, string name, string auditType, string actor, TimeProvider clock, Action<App> change, Func<App, IResult> answer,
        CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            if (await session.LoadAsync<App>(name, ct) is not { } app) return Problems.NotFound("App", name);
            change(app);
            app.UpdatedAt = clock.GetUtcNow();
            session.Update(app);
            AuditEntry.ForApp(session, auditType, app.Name, app.Space, actor, app.UpdatedAt);
            try
            {
                await session.SaveChangesAsync(ct);
                return answer(app);
            }
            catch (JasperFx.ConcurrencyException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>Cloud Foundry's merge for variables: a value sets, a null unsets, an absent name stays.</summary>
    public static void Merge(Dictionary<string, string> target, IReadOnlyDictionary<string, string?>? changes)
    {
        if (changes is null) return;
        foreach (var (name, value) in changes)
        {
            if (value is null) target.Remove(name);
            else target[name] = value;
        }
    }
}
