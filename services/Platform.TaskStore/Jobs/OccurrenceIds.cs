using System.Security.Cryptography;
using System.Text;

namespace Platform.TaskStore.Jobs;

/// <summary>
/// The id of one occurrence of a schedule, and so of the task fired for it: a name-based UUID (RFC 9562
/// version 5) of job, schedule and the occurrence instant in UTC. Every Scheduler replica computes the same
/// id for the same occurrence, so the task stream's unique id makes a second firing fail instead of run.
/// </summary>
public static class OccurrenceIds
{
    /// <summary>The namespace UUID of Platform's occurrence ids (any fixed value; never change it).</summary>
    private static readonly Guid Namespace = new("3f0b8e64-95a1-4c55-9d7e-1c2b6f4a8e10");

    public static Guid For(string job, Guid scheduleId, DateTimeOffset occurrenceAt)
    {
        var name = $"{job}\n{scheduleId:D}\n{occurrenceAt.UtcTicks}";
        Span<byte> input = stackalloc byte[16 + Encoding.UTF8.GetMaxByteCount(name.Length)];
        Namespace.TryWriteBytes(input, bigEndian: true, out _);
        var length = 16 + Encoding.UTF8.GetBytes(name, input[16..]);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input[..length], hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
