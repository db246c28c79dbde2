using Marten;
using Microsoft.Extensions.Options;
using Platform.TaskStore.Access;

namespace Platform.Api.Access;

/// <summary>
/// The first start of a store: the <c>default</c> space, and an <c>admin</c> service account holding the
/// admin role with one token, written to <see cref="AccessOptions.AdminTokenFile"/> (mode 0600, in a
/// directory of mode 0700) and nowhere else. Later starts find the account and change nothing; two Api
/// replicas starting together race on the account's unique name, and only the winner writes the file.
/// </summary>
internal sealed class AdminBootstrap(IDocumentStore store, IOptions<AccessOptions> options, TimeProvider clock, ILogger<AdminBootstrap> logger)
    : IHostedService
{
    public const string AdminAccount = "admin";

    public async Task StartAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using (var session = store.LightweightSession())
        {
            if (await session.LoadAsync<Space>(Space.DefaultName, ct) is null)
            {
                session.Insert(new Space { Name = Space.DefaultName, CreatedAt = now, CreatedBy = "platform" });
                await SaveIgnoringDuplicateAsync(session, ct);
            }
        }

        var file = options.Value.AdminTokenFile;
        if (string.IsNullOrWhiteSpace(file)) return;
        await using var admin = store.LightweightSession();
        if (await admin.LoadAsync<ServiceAccount>(AdminAccount, ct) is not null) return;
        var (token, secret) = AccessToken.Issue(AdminAccount, now, TimeSpan.FromDays(options.Value.AdminTokenLifetimeDays), "platform");
        admin.Insert(new ServiceAccount { Name = AdminAccount, CreatedAt = now, CreatedBy = "platform" });
        admin.Insert(new RoleBinding { Id = Guid.NewGuid(), Subject = Subjects.ServiceAccount(AdminAccount), Role = Role.Admin, CreatedAt = now, CreatedBy = "platform" });
        admin.Insert(token);
        if (!await SaveIgnoringDuplicateAsync(admin, ct)) return;
        WriteRootOnly(file, secret + "\n");
        logger.LogWarning("Created the admin service account; its token is in {File} (readable by this user only). Keep it safe: it is shown nowhere else", file);
    }

    private static async Task<bool> SaveIgnoringDuplicateAsync(IDocumentSession session, CancellationToken ct)
    {
        try
        {
            await session.SaveChangesAsync(ct);
            return true;
        }
        catch (JasperFx.DocumentAlreadyExistsException)
        {
            return false;
        }
    }

    private static void WriteRootOnly(string path, string content)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("The admin token file is written with Unix permissions.");
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory)) Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.Delete(path);
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var writer = new StreamWriter(stream);
        writer.Write(content);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
