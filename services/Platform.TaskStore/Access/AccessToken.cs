using System.Security.Cryptography;
using System.Text;

namespace Platform.TaskStore.Access;

/// <summary>
/// A token Platform issued to a service account. Only a hash of its secret part is stored: the token itself
/// is shown once, at creation. Revocable (<see cref="RevokedAt"/>) and always expiring.
/// </summary>
public sealed class AccessToken
{
    /// <summary>What every Platform-issued token starts with, so a caller's tool (and a secret scanner) can tell it from a JWT.</summary>
    public const string Prefix = "plat_";

    public Guid Id { get; set; }
    public string Account { get; set; } = "";
    public string SecretHash { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public string CreatedBy { get; set; } = "";

    /// <summary>A new token for <paramref name="account"/>: the document to store, and the token to show once.</summary>
    public static (AccessToken Stored, string Token) Issue(string account, DateTimeOffset now, TimeSpan lifetime, string createdBy)
    {
        var id = Guid.NewGuid();
        var secret = Base64Url(RandomNumberGenerator.GetBytes(32));
        var stored = new AccessToken
        {
            Id = id, Account = account, SecretHash = Hash(secret), CreatedAt = now, ExpiresAt = now + lifetime, CreatedBy = createdBy,
        };
        return (stored, $"{Prefix}{id:N}_{secret}");
    }

    /// <summary>The id and secret of a token in Platform's format; false for anything else.</summary>
    public static bool TryParse(string token, out Guid id, out string secret)
    {
        id = Guid.Empty;
        secret = "";
        if (!token.StartsWith(Prefix, StringComparison.Ordinal) || token.Length < Prefix.Length + 34 || token[Prefix.Length + 32] != '_') return false;
        secret = token[(Prefix.Length + 33)..];
        return Guid.TryParseExact(token.AsSpan(Prefix.Length, 32), "N", out id) && secret.Length > 0;
    }

    /// <summary>The secret's SHA-256: the secret is 256 random bits, so a fast hash is as good as a slow one here.</summary>
    public static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public bool Matches(string secret) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(secret)), Encoding.ASCII.GetBytes(SecretHash));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
