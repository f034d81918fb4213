#nullable enable
using System.Buffers;
using System.Text.Json;

namespace ActorGrid.MapReduce.Execution;

/// <summary>
/// The shuffle format: a chunk of map output is a JSON array of <c>[key, value]</c> pairs, values written by
/// System.Text.Json as their <typeparamref name="TValue"/>.
/// </summary>
internal static class ShuffleCodec<TValue>
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General);

    /// <summary>
    /// Serializes <paramref name="entries"/> into chunks of about <paramref name="chunkBytes"/> each (a chunk ends
    /// after the pair that reaches the size). One pair larger than twice the chunk size is refused.
    /// </summary>
    public static byte[][] Encode(IReadOnlyList<KeyValuePair<string, TValue>> entries, int chunkBytes)
    {
        if (entries.Count == 0)
        {
            return [];
        }

        var chunks = new List<byte[]>();
        var buffer = new ArrayBufferWriter<byte>(Math.Min(chunkBytes + 4096, 64 * 1024));
        var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartArray();
        for (var i = 0; i < entries.Count; i++)
        {
            var before = writer.BytesCommitted + writer.BytesPending;
            writer.WriteStartArray();
            writer.WriteStringValue(entries[i].Key);
            JsonSerializer.Serialize(writer, entries[i].Value, Options);
            writer.WriteEndArray();
            var size = writer.BytesCommitted + writer.BytesPending;
            if (size - before > 2L * chunkBytes)
            {
                var key = entries[i].Key;
                throw new InvalidOperationException(
                    $"the map output for key '{(key.Length > 100 ? key[..100] + "…" : key)}' is {size - before} bytes; one key's value may be at most {2L * chunkBytes} bytes");
            }

            if (size >= chunkBytes || i == entries.Count - 1)
            {
                writer.WriteEndArray();
                writer.Flush();
                chunks.Add(buffer.WrittenSpan.ToArray());
                buffer.ResetWrittenCount();
                writer.Reset(buffer);
                writer.WriteStartArray();
            }
        }

        writer.Dispose();
        return [.. chunks];
    }

    /// <summary>Calls <paramref name="pair"/> for every pair of a chunk.</summary>
    public static void Decode(ReadOnlySpan<byte> chunk, Action<string, TValue> pair)
    {
        var reader = new Utf8JsonReader(chunk);
        Expect(ref reader, JsonTokenType.StartArray);
        while (reader.Read() && reader.TokenType == JsonTokenType.StartArray)
        {
            Expect(ref reader, JsonTokenType.String);
            var key = reader.GetString()!;
            reader.Read();
            var value = JsonSerializer.Deserialize<TValue>(ref reader, Options)!;
            Expect(ref reader, JsonTokenType.EndArray);
            pair(key, value);
        }

        if (reader.TokenType != JsonTokenType.EndArray)
        {
            throw new JsonException("malformed shuffle chunk");
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (!reader.Read() || reader.TokenType != type)
        {
            throw new JsonException($"malformed shuffle chunk: expected {type}");
        }
    }
}
