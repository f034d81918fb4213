using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using ActorGrid.Configuration;
using Microsoft.Extensions.Configuration;

namespace ActorGrid.Core.Tests;

/// <summary>Every setting of every role binds from appsettings.json and from <c>ActorGrid__</c> environment variables.</summary>
public sealed class RoleSettingsConfigurationSpec
{
    /// <summary>Each role's options record, under its section.</summary>
    private static readonly (string Section, Type Type, Func<ActorGridOptions, object> Of)[] Roles =
    [
        ("Kv", typeof(KvOptions), o => o.Kv),
        ("Broker", typeof(BrokerOptions), o => o.Broker),
        ("MapReduce", typeof(MapReduceOptions), o => o.MapReduce),
    ];

    /// <summary>Every role setting with a valid value other than its default, as configuration text.</summary>
    private static IEnumerable<(string Section, PropertyInfo Property, object Value, string Text)> Changed()
    {
        foreach (var (section, type, _) in Roles)
        {
            var defaults = Activator.CreateInstance(type)!;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                object value = property.GetValue(defaults) switch
                {
                    int i => i + 3,
                    long l => l + 3,
                    double d => d + 0.5,
                    TimeSpan t => t + TimeSpan.FromMilliseconds(1500),
                    null when Nullable.GetUnderlyingType(property.PropertyType) == typeof(int) => 7,
                    var other => throw new InvalidOperationException($"no test value for {section}:{property.Name} of type {other?.GetType()}"),
                };
                var text = value is TimeSpan span ? span.ToString("c", CultureInfo.InvariantCulture) : Convert.ToString(value, CultureInfo.InvariantCulture)!;
                yield return (section, property, value, text);
            }
        }
    }

    [Fact]
    public void Every_role_setting_binds_from_appsettings_json()
    {
        var json = new JsonObject();
        foreach (var (section, property, _, text) in Changed())
        {
            var node = (JsonObject)(json[section] ??= new JsonObject());
            node[property.Name] = text;
        }

        var file = Path.Combine(Path.GetTempPath(), $"actorgrid-appsettings-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, new JsonObject { ["ActorGrid"] = json }.ToJsonString());
        try
        {
            var options = ActorGridOptionsValidator.Bind(new ConfigurationBuilder().AddJsonFile(file).Build());
            AssertBound(options);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Every_role_setting_binds_from_ActorGrid_environment_variables()
    {
        var variables = Changed().Select(c => ($"ActorGrid__{c.Section}__{c.Property.Name}", c.Text)).ToList();
        try
        {
            foreach (var (name, text) in variables)
            {
                Environment.SetEnvironmentVariable(name, text);
            }

            var options = ActorGridOptionsValidator.Bind(new ConfigurationBuilder().AddEnvironmentVariables().Build());
            AssertBound(options);
        }
        finally
        {
            foreach (var (name, _) in variables)
            {
                Environment.SetEnvironmentVariable(name, null);
            }
        }
    }

    [Theory]
    [InlineData("ActorGrid:Broker:MaxShard", "5", "MaxShard")]
    [InlineData("ActorGrid:MapReduce:Slots", "5", "Slots")]
    [InlineData("ActorGrid:Kv:AskTimeout", "00:00:00", "ActorGrid:Kv:AskTimeout")]
    [InlineData("ActorGrid:Broker:MaxWait", "-00:00:01", "ActorGrid:Broker:MaxWait")]
    [InlineData("ActorGrid:MapReduce:MapSlotsPerNode", "0", "ActorGrid:MapReduce:MapSlotsPerNode")]
    [InlineData("ActorGrid:MapReduce:SpeculativeAfterFactor", "0", "ActorGrid:MapReduce:SpeculativeAfterFactor")]
    public void An_unknown_or_non_positive_role_setting_fails_with_one_line_naming_it(string key, string value, string named)
    {
        var error = Assert.Throws<ActorGridConfigurationException>(() => ActorGridOptionsValidator.Bind(
            new ConfigurationBuilder().AddInMemoryCollection([new KeyValuePair<string, string?>(key, value)]).Build()));

        Assert.Contains(named, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    private static void AssertBound(ActorGridOptions options)
    {
        var changed = Changed().ToList();
        Assert.True(changed.Count >= 40, $"only {changed.Count} role settings found");
        foreach (var (section, property, value, _) in changed)
        {
            var of = Roles.Single(r => r.Section == section).Of;
            Assert.True(Equals(value, property.GetValue(of(options))), $"ActorGrid:{section}:{property.Name} is {property.GetValue(of(options))}, expected {value}");
        }
    }
}
