using Microsoft.IdentityModel.Tokens;

namespace Platform.Api.Access;

/// <summary>
/// Why a bearer token was refused, in words of our own: the identity model's messages can quote parts of the
/// token, and a 401 must never echo it.
/// </summary>
internal static class JwtReasons
{
    public static string Describe(Exception failure) => failure switch
    {
        SecurityTokenExpiredException expired => $"The token expired at {expired.Expires:O}.",
        SecurityTokenNotYetValidException => "The token is not valid yet.",
        SecurityTokenInvalidAudienceException => "The token is not for this audience.",
        SecurityTokenInvalidIssuerException => "The token's issuer is not trusted (unknown issuer).",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The token's signature is not valid.",
        SecurityTokenNoExpirationException => "The token has no expiry.",
        SecurityTokenException => "The token is not valid.",
        _ when failure.GetType().Namespace?.StartsWith("Microsoft.IdentityModel", StringComparison.Ordinal) == true => "The token is not valid.",
        // Our own handlers' messages (Platform tokens, mesh identity) never contain the token.
        _ => failure.Message,
    };
}
