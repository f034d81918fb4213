#nullable enable
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ActorGrid.Grid;
using ActorGrid.Observability;
using Akka.Actor;
using Akka.Serialization;

namespace ActorGrid.Serialization;

/// <summary>
/// Serializes every <see cref="IActorGridMessage"/> as System.Text.Json under an explicit manifest from the
/// <see cref="ManifestRegistry"/>. Unknown types and manifests are refused: nothing is resolved from type names
/// found on the wire. A <see cref="TracedMessage"/> is an envelope: its trace context, then its message under the
/// message's own manifest.
/// </summary>
public sealed class ActorGridSerializer(ExtendedActorSystem system, ManifestRegistry registry) : SerializerWithStringManifest(system)
{
    /// <summary>The serializer id written to the journal next to each event. Never change it.</summary>
    public const int SerializerId = 7301;

    /// <summary>The serializer's name in <c>akka.actor.serializers</c>.</summary>
    public const string Name = "actorgrid";

    /// <summary>JSON options shared by the serializer and its tests.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.General)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>
    /// At least the bytes <paramref name="text"/> takes as a JSON string in a serialized message (without its quotes):
    /// with <see cref="JsonOptions"/>' default encoder a printable ASCII character is one byte, except
    /// <c>" &amp; ' + &lt; &gt; \ `</c>, and every other UTF-16 unit (controls, non-ASCII, lone surrogates) is
    /// escaped as <c>\uXXXX</c>, six bytes. Pages of remote replies are cut by this, never by characters or value bytes.
    /// </summary>
    public static long JsonStringBytes(string text)
    {
        long bytes = 0;
        foreach (var c in text)
        {
            bytes += c is >= ' ' and < (char)0x7F and not ('"' or '&' or '\'' or '+' or '<' or '>' or '\\' or '`') ? 1 : 6;
        }

        return bytes;
    }

    /// <summary>The bytes <paramref name="length"/> bytes take as a base64 JSON string (without its quotes).</summary>
    public static long JsonBase64Bytes(int length) => 4L * ((length + 2) / 3);

    /// <summary>The manifest of the <see cref="TracedMessage"/> envelope (a wire type only, never persisted).</summary>
    public const string TracedManifest = "ag.traced.v1";

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <inheritdoc />
    public override string Manifest(object o) =>
        o is TracedMessage ? TracedManifest
        : registry.TryGetManifest(o.GetType(), out var manifest) ? manifest
        : throw new SerializationException($"{o.GetType()} is not in the ActorGrid manifest table");

    /// <inheritdoc />
    public override byte[] ToBinary(object obj)
    {
        if (obj is not TracedMessage traced)
        {
            return JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), JsonOptions);
        }

        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write(traced.TraceParent);
            writer.Write(traced.TraceState ?? "");
            writer.Write(Manifest(traced.Message));
            writer.Write(ToBinary(traced.Message));
        }

        return buffer.ToArray();
    }

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest == TracedManifest)
        {
            using var reader = new BinaryReader(new MemoryStream(bytes));
            var traceParent = reader.ReadString();
            var traceState = reader.ReadString();
            var innerManifest = reader.ReadString();
            var inner = FromBinary(bytes[(int)reader.BaseStream.Position..], innerManifest);
            return inner is IWithEntityId message
                ? new TracedMessage(message, traceParent, traceState.Length == 0 ? null : traceState)
                : throw new SerializationException($"ActorGrid manifest '{innerManifest}' cannot travel in a traced envelope");
        }

        if (!registry.TryGetType(manifest, out var type))
        {
            throw new SerializationException($"Unknown ActorGrid manifest '{manifest}'");
        }

        return JsonSerializer.Deserialize(bytes, type, JsonOptions)
               ?? throw new SerializationException($"Null payload for ActorGrid manifest '{manifest}'");
    }
}
