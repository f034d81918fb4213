using System.Reflection;
using ActorGrid.Configuration;

namespace ActorGrid.MapReduce.Tests;

/// <summary>Each role's settings take every value of its options record (<c>ActorGrid:Kv</c>, <c>:Broker</c>, <c>:MapReduce</c>).</summary>
public sealed class RoleSettingsSpec
{
    [Fact]
    public void Every_option_of_each_role_reaches_the_role_settings()
    {
        var options = new ActorGridOptions
        {
            Kv = Changed(new KvOptions()),
            Broker = Changed(new BrokerOptions()),
            MapReduce = Changed(new MapReduceOptions()),
        };

        AssertCarried(options.Kv, KeyValue.KvProtocol.Settings.Create(options));
        AssertCarried(options.Broker, Broker.BrokerProtocol.Settings.Create(options));
        AssertCarried(options.MapReduce, MapReduceProtocol.Settings.Create(options, processors: 2));
    }

    /// <summary>A copy of <paramref name="options"/> with every property moved off its default.</summary>
    private static T Changed<T>(T options) where T : class
    {
        var copy = (T)typeof(T).GetMethod("<Clone>$")!.Invoke(options, null)!;
        foreach (var property in typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            object value = property.GetValue(options) switch
            {
                int i => i + 3,
                long l => l + 3,
                double d => d + 0.5,
                TimeSpan t => t + TimeSpan.FromMilliseconds(1500),
                null => 7,
                var other => throw new InvalidOperationException($"no test value for {property.Name} ({other.GetType()})"),
            };
            property.SetValue(copy, value);
        }

        return copy;
    }

    private static void AssertCarried(object options, object settings)
    {
        foreach (var property in options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var carried = settings.GetType().GetProperty(property.Name);
            Assert.True(carried is not null, $"{settings.GetType().FullName} has no {property.Name}");
            Assert.Equal(property.GetValue(options), carried.GetValue(settings));
        }
    }
}
