#nullable enable
using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace ActorGrid.MapReduce.Execution;

/// <summary>
/// Places an intermediate key on a reduce partition: XxHash32 of the key's UTF-8 bytes modulo the number of
/// reducers — the same on every node and in every process (never <c>string.GetHashCode</c>).
/// </summary>
public static class Partitioner
{
    /// <summary>The reduce partition of <paramref name="key"/> among <paramref name="reducers"/>.</summary>
    public static int ReducerOf(string key, int reducers)
    {
        if (reducers == 1)
        {
            return 0;
        }

        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        byte[]? rented = null;
        var buffer = max <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(key, buffer);
            return (int)(XxHash32.HashToUInt32(buffer[..length]) % (uint)reducers);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
