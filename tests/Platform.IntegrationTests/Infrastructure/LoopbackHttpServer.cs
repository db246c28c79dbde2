using System.Net;

namespace Platform.IntegrationTests.Infrastructure;

/// <summary>
/// A tiny HTTP server of a test's own on a free loopback port (a stand-in API, an identity provider's key
/// set): each request is answered by <c>answer</c> on a background loop until the server is disposed.
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener _listener = new();

    public LoopbackHttpServer(Func<HttpListenerContext, Task> answer)
    {
        Url = $"http://127.0.0.1:{ServiceProcess.FreePort()}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                Interlocked.Increment(ref _requests);
                await answer(context);
                context.Response.Close();
            }
        });
    }

    private int _requests;

    public string Url { get; }

    public int Requests => Volatile.Read(ref _requests);

    public void Dispose() => _listener.Close();
}
