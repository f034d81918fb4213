using System.Reflection;
using ActorGrid.Configuration;

namespace ActorGrid.Broker.Tests;

/// <summary>The role's settings come from the node options: every broker option reaches them, and the defaults agree.</summary>
public sealed class BrokerSettingsSpec
{
    [Fact]
    public void Every_broker_option_reaches_the_role_settings_and_the_defaults_are_the_options_defaults()
    {
        var changed = new BrokerOptions();
        foreach (var property in typeof(BrokerOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            object value = property.GetValue(changed) switch
            {
                int i => i + 3,
                long l => l + 3,
                TimeSpan t => t + TimeSpan.FromMilliseconds(1500),
                var other => throw new InvalidOperationException($"no test value for {property.Name} of type {other?.GetType()}"),
            };
            changed = (BrokerOptions)Clone(changed, property, value);
        }

        var settings = BrokerProtocol.Settings.Create(new ActorGridOptions { Broker = changed, Persistence = new PersistenceOptions { SnapshotEvery = 77 } });
        var defaults = new BrokerProtocol.Settings();
        foreach (var property in typeof(BrokerOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var setting = typeof(BrokerProtocol.Settings).GetProperty(property.Name)
                          ?? throw new InvalidOperationException($"Broker:{property.Name} has no role setting");
            Assert.Equal(property.GetValue(changed), setting.GetValue(settings));
            Assert.Equal(property.GetValue(new BrokerOptions()), setting.GetValue(defaults));
        }

        Assert.Equal(77, settings.SnapshotEvery);
        Assert.Equal(new PersistenceOptions().SnapshotEvery, defaults.SnapshotEvery);
        // The largest message between nodes follows the remoting frame, which the limits size.
        Assert.Equal(ActorGridHocon.MaxRemoteMessageBytes(new ActorGridOptions { Broker = changed }), settings.MaxRemoteMessageBytes);
        Assert.Equal(ActorGridHocon.MaxRemoteMessageBytes(new ActorGridOptions()), defaults.MaxRemoteMessageBytes);
        // Every role setting is an option (or SnapshotEvery, from Persistence, or the frame's bound): none is left unbindable.
        Assert.All(typeof(BrokerProtocol.Settings).GetProperties(BindingFlags.Public | BindingFlags.Instance),
            p => Assert.True(p.Name is nameof(BrokerProtocol.Settings.SnapshotEvery) or nameof(BrokerProtocol.Settings.MaxRemoteMessageBytes)
                || typeof(BrokerOptions).GetProperty(p.Name) is not null, p.Name));
    }

    private static object Clone(object record, PropertyInfo property, object value)
    {
        // A record's copy (what `with` does), then the init-only property set on the copy.
        var copy = record.GetType().GetMethod("<Clone>$")!.Invoke(record, null)!;
        property.SetValue(copy, value);
        return copy;
    }
}
