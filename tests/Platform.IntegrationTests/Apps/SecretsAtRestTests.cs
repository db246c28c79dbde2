using System.Net.Http.Json;
using Npgsql;
using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Apps;

/// <summary>Apps' secret values are encrypted before they reach PostgreSQL, and a task still receives them.</summary>
[Collection(PlatformCollection.Name)]
public sealed class SecretsAtRestTests(PlatformFixture platform)
{
    [Fact]
    public async Task No_table_or_event_holds_a_secret_value_and_a_task_still_receives_it()
    {
        var secret = "s3cr3t-" + Guid.NewGuid().ToString("N");
        var changed = "changed-" + Guid.NewGuid().ToString("N");
        var app = await platform.RegisterAppAsync(secretEnv: new Dictionary<string, string> { ["DB_PASSWORD"] = secret });
        // The task proves it got the value by its hash: the value itself must not be in any command, event or log.
        static string Check(string value) =>
            $"test \"$(printf %s \"$DB_PASSWORD\" | sha256sum | cut -c1-64)\" = {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(value)))}";

        var first = await platform.WaitForEndAsync(await platform.RunTaskAsync(app, new { command = Check(secret) }));
        Assert.Equal("SUCCEEDED", first["state"]!.GetValue<string>());
        // A changed secret (PATCH) is encrypted too, and what the next task gets.
        (await platform.Api.PatchAsJsonAsync($"/v3/apps/{app}", new { secret_env = new Dictionary<string, string> { ["DB_PASSWORD"] = changed } })).EnsureSuccessStatusCode();
        var second = await platform.WaitForEndAsync(await platform.RunTaskAsync(app, new { command = Check(changed) }));
        Assert.Equal("SUCCEEDED", second["state"]!.GetValue<string>());

        // Every row of every table of the fixture's schema, documents, event streams and logs alike, as text.
        await using var database = NpgsqlDataSource.Create(platform.Servers.PostgresConnectionString);
        var tables = new List<string>();
        await using (var list = database.CreateCommand($"select table_name from information_schema.tables where table_schema = '{platform.Isolation}'"))
        await using (var reader = await list.ExecuteReaderAsync())
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        Assert.Contains("mt_doc_app", tables);
        Assert.Contains("mt_events", tables);
        var rows = 0;
        foreach (var table in tables)
        {
            await using var dump = database.CreateCommand($"select t::text from {platform.Isolation}.\"{table}\" t");
            await using var reader = await dump.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows++;
                var row = reader.GetString(0);
                Assert.DoesNotContain(secret, row);
                Assert.DoesNotContain(changed, row);
            }
        }
        Assert.True(rows > 10, $"only {rows} rows were read");
        await using (var stored = database.CreateCommand($"select data->'SecretEnv'->>'DB_PASSWORD' from {platform.Isolation}.mt_doc_app where id = $1"))
        {
            stored.Parameters.AddWithValue(app);
            Assert.StartsWith("enc:v1:k1:", (string)(await stored.ExecuteScalarAsync())!);
        }
    }
}
