using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Platform.Api.Access;

/// <summary>
/// Signing keys from a bare JWKS address (<see cref="JwtOptions.JwksUri"/>), for identity providers that
/// publish one without a discovery document. The key set is read on first use and again when a token names
/// a key it does not hold (a rotation), through the same configuration manager JwtBearer uses for an authority.
/// </summary>
internal sealed class JwksRetriever : IConfigurationRetriever<OpenIdConnectConfiguration>
{
    public static ConfigurationManager<OpenIdConnectConfiguration> Manager(string jwksUri) =>
        new(jwksUri, new JwksRetriever(), new HttpDocumentRetriever { RequireHttps = !IsLoopbackHttp(jwksUri) });

    /// <summary>HTTPS anywhere; plain HTTP only where no one else is on the wire.</summary>
    public static bool Trusted(string jwksUri) =>
        Uri.TryCreate(jwksUri, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || IsLoopbackHttp(jwksUri));

    private static bool IsLoopbackHttp(string jwksUri) =>
        Uri.TryCreate(jwksUri, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback;

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(string address, IDocumentRetriever retriever, CancellationToken cancel)
    {
        var keys = new JsonWebKeySet(await retriever.GetDocumentAsync(address, cancel));
        var configuration = new OpenIdConnectConfiguration();
        foreach (var key in keys.GetSigningKeys()) configuration.SigningKeys.Add(key);
        return configuration;
    }
}
