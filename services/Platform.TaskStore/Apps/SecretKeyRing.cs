using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Platform.TaskStore.Apps;

/// <summary>Where the key ring for apps' <c>secret_env</c> is: a root-only file eng/setup.sh creates.</summary>
public sealed class SecretKeysOptions
{
    public const string Section = "TaskStore";

    /// <summary>One key a line, <c>label:base64 of 32 bytes</c>; the last line is the key new values are encrypted with.</summary>
    [Required]
    public string SecretKeysFile { get; set; } = "/etc/platform/secret-keys";
}

/// <summary>
/// Authenticated encryption (AES-256-GCM) of secret values before they reach PostgreSQL. A value is stored
/// as <c>enc:v1:&lt;key label&gt;:&lt;base64 of nonce, ciphertext, tag&gt;</c>, bound to its app and
/// variable name (associated data), so a value copied to another app or variable does not decrypt. Old
/// keys stay in the ring to read what they encrypted until <c>Platform.Api --reencrypt-secrets</c> moved
/// everything to the newest (eng/rotate-secret-key.sh).
/// </summary>
public sealed class SecretKeyRing
{
    private const string Prefix = "enc:v1:";
    private readonly Dictionary<string, byte[]> _keys = new(StringComparer.Ordinal);
    private readonly string _current;

    public SecretKeyRing(IEnumerable<string> lines)
    {
        foreach (var line in lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            var parts = line.Split(':', 2);
            var key = parts.Length == 2 ? Convert.FromBase64String(parts[1]) : [];
            if (parts[0].Length == 0 || key.Length != 32) throw new InvalidOperationException("Each line of the secret key file must be 'label:<base64 of 32 bytes>'.");
            _keys[parts[0]] = key;
            _current = parts[0];
        }
        if (_keys.Count == 0) throw new InvalidOperationException("The secret key file holds no key.");
        _current ??= "";
    }

    public string CurrentLabel => _current;

    public string Encrypt(string app, string name, string value)
    {
        var nonce = RandomNumberGenerator.GetBytes(12);
        var plain = Encoding.UTF8.GetBytes(value);
        var sealedValue = new byte[12 + plain.Length + 16];
        using var aes = new AesGcm(_keys[_current], 16);
        aes.Encrypt(nonce, plain, sealedValue.AsSpan(12, plain.Length), sealedValue.AsSpan(12 + plain.Length), Associated(app, name));
        nonce.CopyTo(sealedValue, 0);
        return $"{Prefix}{_current}:{Convert.ToBase64String(sealedValue)}";
    }

    /// <summary>The value; a value stored before encryption (no prefix) is returned as it is.</summary>
    public string Decrypt(string app, string name, string stored)
    {
        if (!stored.StartsWith(Prefix, StringComparison.Ordinal)) return stored;
        var rest = stored[Prefix.Length..];
        var colon = rest.IndexOf(':');
        var label = rest[..colon];
        if (!_keys.TryGetValue(label, out var key))
            throw new InvalidOperationException($"Secret '{name}' of app '{app}' was encrypted with key '{label}', which the key file no longer holds.");
        var sealedValue = Convert.FromBase64String(rest[(colon + 1)..]);
        var plain = new byte[sealedValue.Length - 28];
        using var aes = new AesGcm(key, 16);
        aes.Decrypt(sealedValue.AsSpan(0, 12), sealedValue.AsSpan(12, plain.Length), sealedValue.AsSpan(12 + plain.Length), plain, Associated(app, name));
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>Whether a stored value is encrypted with the current key (the re-encryption skips those).</summary>
    public bool IsCurrent(string stored) => stored.StartsWith($"{Prefix}{_current}:", StringComparison.Ordinal);

    private static byte[] Associated(string app, string name) => Encoding.UTF8.GetBytes($"platform/app/{app}/secret_env/{name}");
}

public static class SecretKeyRingRegistration
{
    /// <summary>For the services that write or read secret values (the Api, the Executor): the ring is read, and checked, at start.</summary>
    public static IHostApplicationBuilder AddSecretKeyRing(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SecretKeysOptions>().Bind(builder.Configuration.GetSection(SecretKeysOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => File.Exists(o.SecretKeysFile), "TaskStore:SecretKeysFile does not exist: eng/setup.sh creates it (root-only).")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new SecretKeyRing(File.ReadAllLines(sp.GetRequiredService<IOptions<SecretKeysOptions>>().Value.SecretKeysFile)));
        return builder;
    }
}
