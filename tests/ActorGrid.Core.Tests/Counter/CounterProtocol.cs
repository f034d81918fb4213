using ActorGrid.Grid;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Akka.Persistence;

namespace ActorGrid.Core.Tests.Counter;

/// <summary>A user-defined grid role in miniature: a persistent counter behind a shard region.</summary>
public static class CounterProtocol
{
    public const string Role = "counter";
    public const string TypeName = "counter";

    public sealed record Increment(string EntityId, int By) : IWithEntityId, IActorGridMessage;

    public sealed record GetCount(string EntityId) : IWithEntityId, IActorGridMessage;

    public sealed record CountReply(string EntityId, long Count, string Node) : IActorGridMessage;

    public sealed record Incremented(int By) : IActorGridMessage;

    public static void RegisterManifests(ManifestRegistry manifests) => manifests
        .Add<Increment>("test.counter.increment.v1")
        .Add<GetCount>("test.counter.get.v1")
        .Add<CountReply>("test.counter.reply.v1")
        .Add<Incremented>("test.counter.incremented.v1");
}

public sealed class CounterRegion;

public sealed class CounterRole : IGridRole
{
    public string Name => CounterProtocol.Role;

    public IReadOnlyList<string> ShardTypeNames { get; } = [CounterProtocol.TypeName];

    public void RegisterManifests(ManifestRegistry manifests) => CounterProtocol.RegisterManifests(manifests);

    public void Configure(AkkaConfigurationBuilder akka, GridContext context) =>
        akka.WithGridRegion<CounterRegion>(context, Name, CounterProtocol.TypeName, id => Props.Create(() => new CounterEntity(id)), 30);
}

public sealed class CounterEntity : ReceivePersistentActor
{
    private long _count;

    public CounterEntity(string entityId)
    {
        PersistenceId = "counter-" + entityId;
        Recover<CounterProtocol.Incremented>(e => _count += e.By);
        Command<CounterProtocol.Increment>(cmd => Persist(new CounterProtocol.Incremented(cmd.By), e =>
        {
            _count += e.By;
            Sender.Tell(Reply(cmd.EntityId));
        }));
        Command<CounterProtocol.GetCount>(q => Sender.Tell(Reply(q.EntityId)));
    }

    public override string PersistenceId { get; }

    private CounterProtocol.CountReply Reply(string entityId) =>
        new(entityId, _count, Cluster.Get(Context.System).SelfAddress.ToString());
}
