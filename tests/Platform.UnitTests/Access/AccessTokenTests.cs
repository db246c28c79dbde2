using Platform.TaskStore.Access;

namespace Platform.UnitTests.Access;

public sealed class AccessTokenTests
{
    [Fact]
    public void An_issued_token_parses_back_and_matches_only_its_own_secret()
    {
        var (stored, token) = AccessToken.Issue("ci", DateTimeOffset.UnixEpoch, TimeSpan.FromDays(1), "admin");

        Assert.StartsWith("plat_", token);
        Assert.True(AccessToken.TryParse(token, out var id, out var secret));
        Assert.Equal(stored.Id, id);
        Assert.True(stored.Matches(secret));
        Assert.False(stored.Matches(secret + "x"));
        Assert.DoesNotContain(secret, stored.SecretHash);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddDays(1), stored.ExpiresAt);
    }

    [Theory]
    [InlineData("")]
    [InlineData("plat_")]
    [InlineData("plat_not-a-guid-at-all-not-a-guid-at-all_x")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.e30.sig")]
    public void Anything_else_is_not_a_platform_token(string token) => Assert.False(AccessToken.TryParse(token, out _, out _));
}
