using System.Net.Sockets;
using Marten.Exceptions;
using Npgsql;
using Platform.Api.Http;

namespace Platform.UnitTests.Http;

public sealed class StoreUnavailableHandlerTests
{
    [Fact]
    public void A_connection_that_could_not_be_made_or_broke_means_the_store_is_unreachable()
    {
        Assert.True(StoreUnavailableHandler.IsUnreachable(new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))));
        Assert.True(StoreUnavailableHandler.IsUnreachable(new InvalidOperationException("wrapped", new NpgsqlException("Exception while writing to stream"))));
        Assert.True(StoreUnavailableHandler.IsUnreachable(new TimeoutException("The operation has timed out.")));
        Assert.True(StoreUnavailableHandler.IsUnreachable(new MartenCommandException(new NpgsqlCommand("select 1"), new NpgsqlException("reset"))));
    }

    [Theory]
    [InlineData("57P01")] // admin_shutdown: the server is going down
    [InlineData("57P03")] // cannot_connect_now: the server is starting
    [InlineData("08006")] // connection_failure
    [InlineData("53300")] // too_many_connections
    public void A_server_that_is_going_away_or_full_means_unreachable(string sqlState) =>
        Assert.True(StoreUnavailableHandler.IsUnreachable(new PostgresException("", "FATAL", "FATAL", sqlState)));

    [Theory]
    [InlineData("23505")] // unique_violation: a conflict, answered elsewhere
    [InlineData("42P01")] // undefined_table: a bug, a 500
    public void An_error_of_a_live_server_is_not_an_outage(string sqlState) =>
        Assert.False(StoreUnavailableHandler.IsUnreachable(new PostgresException("", "ERROR", "ERROR", sqlState)));

    [Fact]
    public void Other_exceptions_are_left_to_other_handlers() =>
        Assert.False(StoreUnavailableHandler.IsUnreachable(new InvalidOperationException("something else")));
}
