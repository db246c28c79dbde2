using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Platform.IntegrationTests.Infrastructure;

/// <summary>Makes and removes a RabbitMQ virtual host per fixture through the management API, so fixtures never share an exchange.</summary>
public static class RabbitMqVirtualHosts
{
    private static HttpClient Client(ServerEndpoints servers)
    {
        var client = new HttpClient { BaseAddress = servers.RabbitManagement };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{servers.RabbitUser}:{servers.RabbitPassword}")));
        return client;
    }

    public static async Task CreateAsync(ServerEndpoints servers, string vhost)
    {
        using var client = Client(servers);
        (await client.PutAsync($"api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync($"api/permissions/{vhost}/{servers.RabbitUser}",
            new { configure = ".*", write = ".*", read = ".*" })).EnsureSuccessStatusCode();
        // The platform's own users get exactly the rights eng/setup.sh gives them on "/".
        foreach (var (user, configure, write, read) in UserPermissions())
        {
            if (!servers.BrokerUsers.ContainsKey(user)) continue;
            (await client.PutAsJsonAsync($"api/permissions/{vhost}/{user}", new { configure, write, read })).EnsureSuccessStatusCode();
        }
    }

    /// <summary>Makes each user of eng/rabbitmq-users.tsv with a password of its own (a broker of the tests' own); returns them by name.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> CreateUsersAsync(ServerEndpoints servers)
    {
        using var client = Client(servers);
        var users = new Dictionary<string, string>();
        foreach (var (user, _, _, _) in UserPermissions())
        {
            var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
            (await client.PutAsJsonAsync($"api/users/{user}", new { password, tags = "" })).EnsureSuccessStatusCode();
            users[user] = password;
        }
        return users;
    }

    /// <summary>eng/rabbitmq-users.tsv: each platform user and its configure, write and read permissions.</summary>
    public static IEnumerable<(string User, string Configure, string Write, string Read)> UserPermissions() =>
        File.ReadAllLines(Path.Combine(ServiceProcess.RepositoryRoot(), "eng", "rabbitmq-users.tsv"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .Select(f => (f[0], f[1], f[2], f[3]));

    public static async Task DeleteAsync(ServerEndpoints servers, string vhost)
    {
        using var client = Client(servers);
        await client.DeleteAsync($"api/vhosts/{vhost}");
    }

    /// <summary>Closes every client connection to the virtual host, as a broker restart would.</summary>
    public static async Task CloseConnectionsAsync(ServerEndpoints servers, string vhost)
    {
        using var client = Client(servers);
        var connections = await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"api/vhosts/{vhost}/connections");
        foreach (var connection in connections.EnumerateArray())
            await client.DeleteAsync($"api/connections/{Uri.EscapeDataString(connection.GetProperty("name").GetString()!)}");
    }

    /// <summary>How many messages sit in a queue of the virtual host (the error queues, for example).</summary>
    public static async Task<int> MessagesInAsync(ServerEndpoints servers, string vhost, string queue)
    {
        using var client = Client(servers);
        var response = await client.GetAsync($"api/queues/{vhost}/{queue}");
        if (!response.IsSuccessStatusCode) return 0;
        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return body.TryGetProperty("messages", out var messages) ? messages.GetInt32() : 0;
    }
}
