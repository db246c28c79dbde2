using Platform.IntegrationTests.Infrastructure;

namespace Platform.IntegrationTests.Messaging;

/// <summary>
/// A platform on a broker (and database) of its own where test.sh provides containers: what outside
/// publishers send lands on no one else's exchanges, and the wire format is proved on a broker that
/// Testcontainers started from the image, not only on the machine's own.
/// </summary>
public sealed class MessagingFixture : PlatformFixture
{
    protected override bool OwnServers => true;
}

[CollectionDefinition(Name)]
public sealed class MessagingCollection : ICollectionFixture<MessagingFixture>
{
    public const string Name = "messaging";
}
