using System.Security.Cryptography;
using Platform.TaskStore.Apps;

namespace Platform.UnitTests.Access;

public sealed class SecretKeyRingTests
{
    private static string Key(string label) => $"{label}:{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}";

    [Fact]
    public void A_value_round_trips_and_never_appears_in_what_is_stored()
    {
        var ring = new SecretKeyRing([Key("k1")]);
        var stored = ring.Encrypt("billing", "DB_PASSWORD", "hunter2");

        Assert.StartsWith("enc:v1:k1:", stored);
        Assert.DoesNotContain("hunter2", stored);
        Assert.NotEqual(stored, ring.Encrypt("billing", "DB_PASSWORD", "hunter2"));
        Assert.Equal("hunter2", ring.Decrypt("billing", "DB_PASSWORD", stored));
    }

    [Fact]
    public void A_value_moved_to_another_app_or_variable_does_not_decrypt()
    {
        var ring = new SecretKeyRing([Key("k1")]);
        var stored = ring.Encrypt("billing", "DB_PASSWORD", "hunter2");

        Assert.ThrowsAny<CryptographicException>(() => ring.Decrypt("reports", "DB_PASSWORD", stored));
        Assert.ThrowsAny<CryptographicException>(() => ring.Decrypt("billing", "OTHER", stored));
    }

    [Fact]
    public void After_a_rotation_old_values_still_decrypt_and_new_ones_use_the_newest_key()
    {
        var old = Key("k1");
        var before = new SecretKeyRing([old]).Encrypt("a", "S", "v");
        var rotated = new SecretKeyRing([old, Key("k2")]);

        Assert.Equal("v", rotated.Decrypt("a", "S", before));
        Assert.False(rotated.IsCurrent(before));
        Assert.True(rotated.IsCurrent(rotated.Encrypt("a", "S", "v")));
        Assert.Throws<InvalidOperationException>(() => new SecretKeyRing([Key("k2")]).Decrypt("a", "S", before));
        Assert.Equal("plain", rotated.Decrypt("a", "S", "plain"));
    }
}
