using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Cli.Configuration;
using Platform.Cli.Output;

namespace Platform.Cli.Http;

/// <summary>
/// The CLI's only way to the platform: the HTTP API. Sends the bearer token when one is configured, turns
/// every failure into a <see cref="CliFailure"/> with its exit code and the API's problem in one line, and
/// with <c>--verbose</c> prints each exchange to stderr with the token masked.
/// </summary>
internal sealed class PlatformClient : IDisposable
{
    // Ordinary requests; a followed log stream has no limit (it lasts as long as the task).
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly Terminal _terminal;
    private readonly bool _verbose;
    private readonly string? _token;

    public PlatformClient(CliSettings settings, Terminal terminal, bool verbose)
    {
        BaseAddress = settings.RequireApi();
        _token = settings.Token;
        _terminal = terminal;
        _verbose = verbose;
        _http = new HttpClient { BaseAddress = BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("platform-cli", typeof(PlatformClient).Assembly.GetName().Version?.ToString(3)));
        if (_token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _token);
    }

    public Uri BaseAddress { get; }

    public Task<JsonNode?> GetAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Get, path, null, ct);

    public Task<JsonNode?> PostAsync(string path, object? body, CancellationToken ct) => SendAsync(HttpMethod.Post, path, body, ct);

    public Task<JsonNode?> PatchAsync(string path, object body, CancellationToken ct) => SendAsync(HttpMethod.Patch, path, body, ct);

    public Task<JsonNode?> DeleteAsync(string path, CancellationToken ct) => SendAsync(HttpMethod.Delete, path, null, ct);

    /// <summary>One request; the parsed body (null for 204), or a <see cref="CliFailure"/>.</summary>
    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, object? body, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(RequestTimeout);
        using var request = new HttpRequestMessage(method, path);
        string? payload = null;
        if (body is not null)
        {
            payload = body is JsonNode node ? node.ToJsonString() : JsonSerializer.Serialize(body);
            request.Content = new StringContent(payload, Encoding.UTF8, "application/json");
        }
        using var response = await ExchangeAsync(request, payload, HttpCompletionOption.ResponseContentRead, timeout.Token, ct);
        var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
        if (_verbose) _terminal.Verbose($"< {text}");
        if (!response.IsSuccessStatusCode) throw Failure(response, text);
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    /// <summary>Every page of a Cloud Foundry list (following <c>pagination.next</c>), its resources in order.</summary>
    public async Task<JsonArray> GetAllAsync(string path, CancellationToken ct)
    {
        var all = new JsonArray();
        string? next = path;
        while (next is not null)
        {
            var page = await GetAsync(next, ct);
            foreach (var item in page?["resources"]?.AsArray() ?? []) all.Add(item?.DeepClone());
            next = page?["pagination"]?["next"]?["href"]?.GetValue<string>();
        }
        return all;
    }

    /// <summary>Opens a long-lived response (server-sent events); the caller reads and disposes it.</summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(string path, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var response = await ExchangeAsync(request, null, HttpCompletionOption.ResponseHeadersRead, ct, ct);
        if (response.IsSuccessStatusCode) return response;
        using (response)
            throw Failure(response, await response.Content.ReadAsStringAsync(CancellationToken.None));
    }

    private async Task<HttpResponseMessage> ExchangeAsync(
        HttpRequestMessage request, string? payload, HttpCompletionOption completion, CancellationToken token, CancellationToken caller)
    {
        if (_verbose)
        {
            _terminal.Verbose($"> {request.Method} {new Uri(BaseAddress, request.RequestUri!)}");
            if (_token is not null) _terminal.Verbose($"> Authorization: Bearer {Mask(_token)}");
            if (payload is not null) _terminal.Verbose($"> {payload}");
        }
        try
        {
            var response = await _http.SendAsync(request, completion, token);
            if (_verbose) _terminal.Verbose($"< {(int)response.StatusCode} {response.ReasonPhrase} ({response.Content.Headers.ContentType})");
            return response;
        }
        catch (HttpRequestException ex)
        {
            throw new CliFailure(ExitCodes.Unavailable, $"cannot reach the API at {BaseAddress}: {ex.Message}");
        }
        catch (OperationCanceledException) when (!caller.IsCancellationRequested)
        {
            throw new CliFailure(ExitCodes.Unavailable, $"the API at {BaseAddress} did not answer within {RequestTimeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>The token's first four characters, so that two tokens can be told apart in a log without either leaking.</summary>
    internal static string Mask(string token) => token.Length <= 8 ? "****" : token[..4] + "****";

    internal static CliFailure Failure(HttpResponseMessage response, string body)
    {
        var status = (int)response.StatusCode;
        var code = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ExitCodes.NotAuthorised,
            HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => ExitCodes.Unavailable,
            _ when status >= 500 => ExitCodes.ApiError,
            _ => ExitCodes.Refused,
        };
        return new CliFailure(code, $"{status} {ProblemLine(body, response.ReasonPhrase)}");
    }

    /// <summary>
    /// A problem-details body in one line: each bad field with its reason, else the title and detail
    /// (<c>422 memory_in_mb: memory_in_mb must be between 1 and 8192.</c>).
    /// </summary>
    internal static string ProblemLine(string body, string? reason)
    {
        JsonObject? problem = null;
        try
        {
            problem = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
        }
        if (problem is null) return string.IsNullOrWhiteSpace(body) ? reason ?? "" : OneLine(body);
        if (problem["errors"] is JsonObject errors && errors.Count > 0)
            return string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value?.AsArray().Select(m => m?.ToString()) ?? [])}"));
        var title = problem["title"]?.ToString();
        var detail = problem["detail"]?.ToString();
        return OneLine(string.Join(" ", new[] { title, detail }.Where(s => !string.IsNullOrWhiteSpace(s))) is { Length: > 0 } line ? line : reason ?? "");
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();

    public void Dispose() => _http.Dispose();
}
