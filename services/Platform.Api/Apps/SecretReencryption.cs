using Marten;
using Platform.TaskStore.Access;
using Platform.TaskStore.Apps;

namespace Platform.Api.Apps;

/// <summary>
/// <c>Platform.Api --reencrypt-secrets</c>: every app's secret values decrypted with whichever key of the
/// ring encrypted them and encrypted again with the newest, app by app (optimistic concurrency: an app
/// changed meanwhile is read again). Run by eng/rotate-secret-key.sh after it adds a key; afterwards
/// the old key can leave the file.
/// </summary>
internal static class SecretReencryption
{
    public static async Task<int> RunAsync(IServiceProvider services, ILogger logger, CancellationToken ct)
    {
        var store = services.GetRequiredService<IDocumentStore>();
        var ring = services.GetRequiredService<SecretKeyRing>();
        var clock = services.GetRequiredService<TimeProvider>();
        IReadOnlyList<string> names;
        await using (var query = store.QuerySession())
            names = await query.Query<App>().Select(a => a.Name).ToListAsync(ct);
        var changed = 0;
        foreach (var name in names)
        {
            var moved = false;
            await AppChanges.ApplyAsync(store, name, "secret_env.reencrypt", Actors.Operator("--reencrypt-secrets"), clock, app =>
            {
                foreach (var (variable, stored) in app.SecretEnv.ToList())
                {
                    if (ring.IsCurrent(stored)) continue;
                    app.SecretEnv[variable] = ring.Encrypt(app.Name, variable, ring.Decrypt(app.Name, variable, stored));
                    moved = true;
                }
            }, _ => Results.Ok(), ct);
            if (moved) changed++;
        }
        logger.LogWarning("Re-encrypted the secrets of {Changed} of {Apps} apps with key '{Key}'", changed, names.Count, ring.CurrentLabel);
        return 0;
    }
}
