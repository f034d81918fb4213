#nullable enable
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;

namespace ActorGrid.Serialization;

/// <summary>
/// Serializes every <see cref="IActorGridMessage"/> as System.Text.Json under an explicit manifest from the
/// <see cref="ManifestRegistry"/>. Unknown types and manifests are refused: nothing is resolved from type names
/// found on the wire.
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

    /// <inheritdoc />
    public override int Identifier => SerializerId;

    /// <inheritdoc />
    public override string Manifest(object o) =>
        registry.TryGetManifest(o.GetType(), out var manifest)
            ? manifest
            : throw new SerializationException($"{o.GetType()} is not in the ActorGrid manifest table");

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) =>
        JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), JsonOptions);

    /// <inheritdoc />
    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (!registry.TryGetType(manifest, out var type))
        {
            throw new SerializationException($"Unknown ActorGrid manifest '{manifest}'");
        }

        return JsonSerializer.Deserialize(bytes, type, JsonOptions)
               ?? throw new SerializationException($"Null payload for ActorGrid manifest '{manifest}'");
    }
}
