using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Platform.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP forwarder in front of a real server (PostgreSQL, RabbitMQ) that a test can cut and restore: a real
/// network fault for the services pointed at it, while the server itself, shared with other test runs,
/// keeps running. Cut, every open connection is reset and the port stops listening (connections are
/// refused), as a client sees a server that went away; restored, it listens on the same port again.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private TcpListener _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly CancellationTokenSource _stopped = new();
    private Task _accepting;
    private volatile bool _cut;

    public TcpProxy(string targetHost, int targetPort)
    {
        _targetHost = targetHost;
        _targetPort = targetPort;
        _listener = Listen(0);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync(_listener);
    }

    public int Port { get; }

    public bool IsCut => _cut;

    /// <summary>The server becomes unreachable: open connections are reset, new ones refused. Returns how many were open.</summary>
    public int Cut()
    {
        _cut = true;
        _listener.Stop();
        var open = _open.Keys.ToList();
        foreach (var socket in open) Reset(socket);
        return open.Count;
    }

    public void Restore()
    {
        if (!_cut) return;
        _listener = Listen(Port);
        _accepting = AcceptAsync(_listener);
        _cut = false;
    }

    private static TcpListener Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        // The port is taken again on restore while connections of before may linger in TIME_WAIT.
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        return listener;
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (!_stopped.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(_stopped.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
        _open[client] = 0;
        _open[server] = 0;
        try
        {
            await server.ConnectAsync(_targetHost, _targetPort, _stopped.Token);
            if (_cut) return; // arrived just as the proxy was cut
            await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            Reset(client);
            Reset(server);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0) return;
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    private void Reset(Socket socket)
    {
        _open.TryRemove(socket, out _);
        try
        {
            // Linger 0: close with RST, as a vanished server's host answers, not a polite FIN. The shutdown
            // first: a socket with a receive pending is closed only once that receive ends.
            socket.LingerState = new LingerOption(true, 0);
            if (socket.Connected) socket.Shutdown(SocketShutdown.Both);
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopped.CancelAsync();
        _listener.Stop();
        foreach (var socket in _open.Keys) Reset(socket);
        await _accepting;
    }
}
