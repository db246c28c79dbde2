using Platform.Api.Access;

namespace Platform.UnitTests.Access;

public sealed class JwksAddressTests
{
    [Theory]
    [InlineData("https://idp.example.com/.well-known/jwks.json", true)]
    [InlineData("http://127.0.0.1:9000/keys", true)]
    [InlineData("http://localhost/keys", true)]
    [InlineData("http://[::1]:9000/keys", true)]
    [InlineData("http://idp.example.com/keys", false)]
    [InlineData("http://10.0.0.5/keys", false)]
    [InlineData("ftp://idp.example.com/keys", false)]
    [InlineData("/keys.json", false)]
    public void A_key_set_is_fetched_over_https_or_over_http_only_on_loopback(string address, bool trusted) =>
        Assert.Equal(trusted, JwksRetriever.Trusted(address));
}
