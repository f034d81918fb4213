#nullable enable
using ActorGrid.Grid;
using ActorGrid.Serialization;
using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.Kafka;

/// <summary>
/// The Kafka protocol front door (SPEC §13) as a part of the grid: it hosts no entities; it listens on
/// <c>ActorGrid:Kafka:Port</c> and advertises that port to the cluster as the member role <c>kafka:&lt;port&gt;</c>
/// so that every node can list every other as a Kafka broker.
/// </summary>
public sealed class KafkaFrontDoor : IGridRole
{
    /// <summary>The prefix of the member role that carries a node's Kafka port.</summary>
    public const string PortRolePrefix = "kafka:";

    /// <inheritdoc />
    public string Name => "kafka";

    /// <inheritdoc />
    public IReadOnlyList<string> ShardTypeNames { get; } = [];

    /// <inheritdoc />
    public void RegisterManifests(ManifestRegistry manifests)
    {
    }

    /// <inheritdoc />
    public void AddServices(IServiceCollection services)
    {
        // Options are bound when the host starts: the listener itself does nothing when ActorGrid:Kafka:Port is 0.
        services.AddSingleton<KafkaBrokers>();
        services.AddSingleton<KafkaApiHandler>();
        services.AddHostedService<KafkaListener>();
    }

    /// <inheritdoc />
    public void Configure(AkkaConfigurationBuilder akka, GridContext context)
    {
        if (context.Options.Kafka.Port == 0)
        {
            return;
        }

        // Restates the node's roles with the Kafka port added: the port travels in cluster gossip with the member.
        var roles = context.Roles.Append(PortRolePrefix + context.Options.Kafka.Port).Distinct(StringComparer.Ordinal).Select(r => $"\"{r}\"");
        akka.AddHocon(ConfigurationFactory.ParseString($"akka.cluster.roles = [{string.Join(", ", roles)}]"), HoconAddMode.Prepend);
    }
}

/// <summary>Adds the Kafka front door to a grid.</summary>
public static class KafkaGridBuilderExtensions
{
    /// <summary>Serves the Kafka protocol on <c>ActorGrid:Kafka:Port</c> (default 9092; 0 turns it off) over the broker role.</summary>
    public static ActorGridBuilder WithKafkaFrontDoor(this ActorGridBuilder grid) => grid.AddRole(new KafkaFrontDoor());
}
