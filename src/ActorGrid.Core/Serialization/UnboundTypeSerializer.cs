#nullable enable
using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Serialization;

namespace ActorGrid.Serialization;

/// <summary>
/// Takes the place of Akka's Newtonsoft <c>json</c> serializer (id 1, bound to <c>System.Object</c>), which resolves
/// .NET type names found in the payload and so instantiates whatever a peer names. Nothing is ever deserialized by
/// it: a message arriving with serializer id 1 is refused, logged and dropped by the remoting reader; a message of a
/// type bound to no serializer is refused when sent, naming the type, instead of being written with type names.
/// Only <see cref="ActorGridSerializer"/> and Akka's own protobuf serializers accept payloads.
/// </summary>
public sealed class UnboundTypeSerializer : SerializerWithStringManifest
{
    /// <summary>The id Akka gives its Newtonsoft serializer; kept so that such payloads reach this refusal.</summary>
    public const int NewtonsoftSerializerId = 1;

    // Serializers are made before the actor system's logging has started: take the logger on first use.
    private readonly Lazy<ILoggingAdapter> _log;

    /// <summary>Created by Akka for the <c>json</c> entry of <c>akka.actor.serializers</c>.</summary>
    public UnboundTypeSerializer(ExtendedActorSystem system) : base(system) =>
        _log = new Lazy<ILoggingAdapter>(() => Logging.GetLogger(system, typeof(UnboundTypeSerializer)));

    /// <summary>Created by Akka when <c>akka.actor.serialization-settings.json</c> exists; the settings are ignored.</summary>
    public UnboundTypeSerializer(ExtendedActorSystem system, Config config) : this(system)
    {
    }

    /// <summary>HOCON (at the root) that puts this serializer in place of Akka's Newtonsoft one.</summary>
    public static string Hocon => $"akka.actor.serializers.json = \"{typeof(UnboundTypeSerializer).AssemblyQualifiedName}\"";

    /// <inheritdoc />
    public override int Identifier => NewtonsoftSerializerId;

    /// <inheritdoc />
    public override string Manifest(object o) => throw Unbound(o);

    /// <inheritdoc />
    public override byte[] ToBinary(object obj) => throw Unbound(obj);

    /// <inheritdoc />
    /// <remarks>
    /// A string-manifest serializer is handed the manifest as text: the type name in it is logged, never resolved.
    /// </remarks>
    public override object FromBinary(byte[] bytes, string manifest)
    {
        _log.Value.Warning("Dropped a {Bytes}-byte payload for serializer id {SerializerId} (Newtonsoft JSON with type names; manifest '{Manifest}'): not accepted from the wire",
            bytes.Length, NewtonsoftSerializerId, manifest);
        throw new SerializationException($"serializer id {NewtonsoftSerializerId} (Newtonsoft JSON with type names) is not accepted; payload dropped");
    }

    private static SerializationException Unbound(object o) =>
        new($"{o.GetType()} is bound to no serializer: wire and persisted types implement IActorGridMessage and are registered in the manifest table");
}
