using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace Platform.Api.Http;

/// <summary>
/// Answers a request that failed because PostgreSQL could not be reached with a 503, a Retry-After and a
/// problem naming the store, instead of a bare 500: the client did nothing wrong and may simply try again.
/// </summary>
internal sealed class StoreUnavailableHandler(IProblemDetailsService problems, ILogger<StoreUnavailableHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsUnreachable(exception)) return false;
        logger.LogWarning("{Method} {Path}: the task store (PostgreSQL) is unreachable: {Error}",
            context.Request.Method, context.Request.Path, exception.GetBaseException().Message);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString();
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The task store is unavailable.",
                Detail = $"PostgreSQL (the task store) cannot be reached: {exception.GetBaseException().Message}. Retry after {RetryAfterSeconds} s.",
                Extensions = { ["unavailable"] = "postgresql" },
            },
        });
    }

    /// <summary>
    /// A connection that could not be opened or broke, a server shutting down, a timeout: the store is away.
    /// An SQL error of a live server (a unique violation, a bad statement) is a bug or a conflict, not this.
    /// </summary>
    internal static bool IsUnreachable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case PostgresException postgres:
                    // Class 08: connection exception; 57P: operator intervention (shutdown, cannot connect now).
                    return postgres.SqlState.StartsWith("08") || postgres.SqlState.StartsWith("57P") || postgres.SqlState == "53300";
                case NpgsqlException or SocketException or TimeoutException:
                    return true;
            }
        }
        return false;
    }
}
