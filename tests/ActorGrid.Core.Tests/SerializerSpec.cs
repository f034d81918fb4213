using System.Runtime.Serialization;
using ActorGrid.Core.Tests.Counter;
using ActorGrid.Serialization;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Configuration;

namespace ActorGrid.Core.Tests;

public sealed class SerializerSpec : IDisposable
{
    private readonly ManifestRegistry _registry = new();
    private readonly ActorSystem _system;

    public SerializerSpec()
    {
        CounterProtocol.RegisterManifests(_registry);
        var registry = _registry;
        var setup = Akka.Actor.BootstrapSetup.Create().WithConfig(ConfigurationFactory.ParseString("akka.loglevel = WARNING"))
            .And(SerializationChecks.Setup(registry));
        _system = ActorSystem.Create("serializer-spec", setup);
    }

    [Fact]
    public void Every_bound_type_round_trips_through_the_actorgrid_serializer()
    {
        var checkedManifests = SerializationChecks.AssertRoundTripsAll(_system, _registry);

        Assert.Equal(_registry.Entries.Keys.Order(), checkedManifests.Order());
    }

    [Fact]
    public void Unknown_manifests_are_refused()
    {
        var serializer = (ActorGridSerializer)_system.Serialization.FindSerializerForType(typeof(CounterProtocol.Increment));
        var bytes = serializer.ToBinary(new CounterProtocol.Increment("a", 1));

        var error = Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "System.Object, System.Private.CoreLib"));
        Assert.Contains("Unknown ActorGrid manifest", error.Message);
    }

    [Fact]
    public void Unregistered_actorgrid_types_are_refused_rather_than_written_with_type_names()
    {
        var serializer = _system.Serialization.FindSerializerForType(typeof(Unregistered));

        Assert.IsType<ActorGridSerializer>(serializer);
        Assert.Throws<SerializationException>(() => ((ActorGridSerializer)serializer).Manifest(new Unregistered("x")));
    }

    [Fact]
    public void A_manifest_cannot_be_bound_to_two_types()
    {
        Assert.Throws<ArgumentException>(() => _registry.Add<Unregistered>("test.counter.increment.v1"));
    }

    [Fact]
    public void Round_trip_checker_catches_a_property_the_constructor_does_not_restore()
    {
        var registry = new ManifestRegistry().Add<Lossy>("test.lossy");
        var setup = Akka.Actor.BootstrapSetup.Create()
            .And(SerializationChecks.Setup(registry));
        using var system = ActorSystem.Create("lossy", setup);

        Assert.Throws<InvalidOperationException>(() => SerializationChecks.AssertRoundTripsAll(system, registry));
    }

    [Fact]
    public void Json_string_bytes_are_never_less_than_what_a_string_takes_serialized()
    {
        // Every UTF-16 unit (controls, escaped ASCII, non-ASCII, lone surrogates), alone and all together.
        var all = new string([.. Enumerable.Range(0, 0x10000).Select(c => (char)c)]);
        foreach (var text in new[] { "", "plain ascii", "\"quoted\" <html> & 'more' + `tick`", "naïve café — 日本語 🎉", "\ud800 lone", all })
        {
            var serialized = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(text, ActorGridSerializer.JsonOptions).Length - 2;
            Assert.True(ActorGridSerializer.JsonStringBytes(text) >= serialized, $"{ActorGridSerializer.JsonStringBytes(text)} < {serialized} for a string of {text.Length}");
        }

        Assert.Equal(11, ActorGridSerializer.JsonStringBytes("plain ascii"));
        Assert.Equal(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new byte[1000], ActorGridSerializer.JsonOptions).Length - 2, ActorGridSerializer.JsonBase64Bytes(1000));
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private sealed record Unregistered(string Value) : IActorGridMessage;

    /// <summary>Its constructor ignores the argument: what was written is not what is read back.</summary>
    private sealed class Lossy(string value) : IActorGridMessage
    {
        public string Value { get; } = value + "!";
    }
}
