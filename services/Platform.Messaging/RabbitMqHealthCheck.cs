using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Platform.Messaging;

/// <summary>
/// Whether the broker answers at all: opens a TCP connection and sends the AMQP protocol header, to which a
/// RabbitMQ answers at once (Connection.Start). MassTransit's own bus check follows its receive endpoints,
/// so a service that only publishes (the Api, the Scheduler) would look healthy with the broker gone.
/// </summary>
internal sealed class RabbitMqHealthCheck(IOptions<RabbitMqOptions> options) : IHealthCheck
{
    private static readonly byte[] ProtocolHeader = "AMQP"u8.ToArray().Concat(new byte[] { 0, 0, 9, 1 }).ToArray();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var (host, port) = (options.Value.Host, options.Value.Port);
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync(ProtocolHeader, cancellationToken);
            var answer = new byte[1];
            if (await stream.ReadAsync(answer, cancellationToken) == 0)
                return HealthCheckResult.Unhealthy($"RabbitMQ at {host}:{port} closed the connection without answering");
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return HealthCheckResult.Unhealthy($"RabbitMQ is unreachable at {host}:{port}: {ex.Message}");
        }
    }
}
