using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Platform.IntegrationTests.Telemetry;

/// <summary>
/// A tiny OTLP/HTTP collector inside the test: the services export to it with
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>, and it keeps every span, metric point and log record
/// it receives, decoded, for the tests to assert on.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<ExportedSpan> _spans = new();
    private readonly ConcurrentQueue<ExportedLog> _logs = new();
    private readonly ConcurrentQueue<ExportedMetricPoint> _metrics = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly Task _loop;

    public OtlpReceiver()
    {
        var port = FreePort();
        Endpoint = new Uri($"http://127.0.0.1:{port}");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri Endpoint { get; }
    public IReadOnlyList<ExportedSpan> Spans => _spans.ToArray();
    public IReadOnlyList<ExportedLog> Logs => _logs.ToArray();
    public IReadOnlyList<ExportedMetricPoint> MetricPoints => _metrics.ToArray();

    /// <summary>Polls until <paramref name="condition"/> holds over what has arrived; fails naming what did arrive.</summary>
    public async Task<T> WaitForAsync<T>(Func<OtlpReceiver, T?> condition, string what, TimeSpan? timeout = null) where T : class
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            if (condition(this) is { } result) return result;
            await Task.Delay(200);
        }
        throw new TimeoutException($"Never received {what}. Received spans:\n{Describe(Spans)}\nDecoding errors: {string.Join("; ", _errors)}");
    }

    /// <summary>The last value of each cumulative series (one per service instance and attribute set), summed over instances.</summary>
    public double Total(string metric, params (string Key, object Value)[] attributes)
    {
        var points = _metrics.Where(p => p.Name == metric && attributes.All(a => Equals(p.Attributes.GetValueOrDefault(a.Key), a.Value)));
        return points
            .GroupBy(p => (p.Instance, Series: string.Join(",", p.Attributes.OrderBy(a => a.Key).Select(a => $"{a.Key}={a.Value}"))))
            .Sum(series => series.Last().Value);
    }

    public static string Describe(IEnumerable<ExportedSpan> spans) => string.Join("\n", spans.Select(s =>
        $"{s.Service} [{s.Scope}] '{s.Name}' kind={s.Kind} trace={s.TraceId} span={s.SpanId} parent={s.ParentSpanId} " +
        string.Join(" ", s.Attributes.Select(a => $"{a.Key}={a.Value}"))));

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            try
            {
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                var bytes = body.ToArray().AsMemory();
                switch (context.Request.Url!.AbsolutePath)
                {
                    case "/v1/traces": foreach (var span in OtlpRequests.Spans(bytes)) _spans.Enqueue(span); break;
                    case "/v1/metrics": foreach (var point in OtlpRequests.Metrics(bytes)) _metrics.Enqueue(point); break;
                    case "/v1/logs": foreach (var log in OtlpRequests.Logs(bytes)) _logs.Enqueue(log); break;
                }
                context.Response.StatusCode = 200;
                context.Response.ContentType = "application/x-protobuf";
            }
            catch (Exception ex)
            {
                _errors.Enqueue($"{context.Request.Url?.AbsolutePath}: {ex.Message}");
                context.Response.StatusCode = 400;
            }
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
