using System.Diagnostics;
using ActorGrid.KeyValue;
using ActorGrid.Serialization;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace ActorGrid.Observability.Tests;

/// <summary>The traced envelope crosses the wire inside ActorGrid's serializer: context and command intact.</summary>
public sealed class TracedMessageSerializationSpec : IDisposable
{
    private readonly ActorSystem _system;

    public TracedMessageSerializationSpec()
    {
        var registry = new ManifestRegistry();
        KvProtocol.RegisterManifests(registry);
        var setup = BootstrapSetup.Create().WithConfig(ConfigurationFactory.ParseString("akka.loglevel = WARNING"))
            .And(SerializationChecks.Setup(registry));
        _system = ActorSystem.Create("traced-envelope", setup);
    }

    [Fact]
    public void A_traced_command_round_trips_with_its_w3c_context_under_the_envelope_manifest()
    {
        var parent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        using var activity = new Activity("edge").SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags).Start();
        activity.TraceStateString = "vendor=1";
        var put = new KvProtocol.Put("kv-3", "a/b", "value"u8.ToArray(), KvProtocol.Precondition.None, null);

        var wrapped = Assert.IsType<TracedMessage>(TracedMessage.Wrap(put));
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerFor(wrapped);
        Assert.IsType<ActorGridSerializer>(serializer);
        Assert.Equal(ActorGridSerializer.TracedManifest, serializer.Manifest(wrapped));

        var back = Assert.IsType<TracedMessage>(serializer.FromBinary(serializer.ToBinary(wrapped), serializer.Manifest(wrapped)));
        Assert.Equal(activity.Id, back.TraceParent);
        Assert.Equal("vendor=1", back.TraceState);
        Assert.Equal("kv-3", back.EntityId);
        var inner = Assert.IsType<KvProtocol.Put>(back.Message);
        Assert.Equal(put.Key, inner.Key);
        Assert.Equal(put.Value, inner.Value);
        Assert.True(ActivityContext.TryParse(back.TraceParent, back.TraceState, out var context));
        Assert.Equal(activity.TraceId, context.TraceId);
        Assert.Equal(activity.SpanId, context.SpanId);
    }

    [Fact]
    public void Without_a_recorded_span_the_command_goes_unwrapped()
    {
        Assert.Null(Activity.Current);
        var get = new KvProtocol.Get("kv-1", "k");
        Assert.Same(get, TracedMessage.Wrap(get));
    }

    public void Dispose() => _system.Dispose();
}
