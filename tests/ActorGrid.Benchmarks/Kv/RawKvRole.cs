#nullable enable
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence;

namespace ActorGrid.Benchmarks.Kv;

/// <summary>
/// The baseline: a hand-written Akka.NET sharded persistent entity holding key → value, group-committing with
/// <c>PersistAll</c> (commands that arrive while a write is in flight are stashed by Akka.Persistence; a
/// self-addressed flush collects them into the next <c>PersistAll</c>). No versions, preconditions, TTL, limits,
/// replicas or load metering. Same journal, same serializer, same shard region settings as the KV role.
/// </summary>
public static class RawKv
{
    /// <summary>Role and shard type name of the baseline.</summary>
    public const string Name = "rawkv";

    /// <summary>Writes a value.</summary>
    public sealed record Put(string EntityId, string Key, byte[] Value) : IWithEntityId, IActorGridMessage;

    /// <summary>The journaled event.</summary>
    public sealed record Stored(string Key, byte[] Value) : IActorGridMessage;

    /// <summary>The write is durable.</summary>
    public sealed record Ack(long SequenceNr) : IActorGridMessage;

    /// <summary>Registry key of the baseline region.</summary>
    public sealed class Region
    {
        private Region()
        {
        }
    }

    /// <summary>The entity id of partition <paramref name="partition"/>.</summary>
    public static string EntityId(int partition) => Name + "-" + partition;

    /// <summary>Hosts the baseline region next to the KV role.</summary>
    public sealed class Role : IGridRole
    {
        /// <inheritdoc />
        public string Name => RawKv.Name;

        /// <inheritdoc />
        public IReadOnlyList<string> ShardTypeNames { get; } = [RawKv.Name];

        /// <inheritdoc />
        public void RegisterManifests(ManifestRegistry manifests) => manifests
            .Add<Put>("bench.rawkv.put.v1")
            .Add<Stored>("bench.rawkv.stored.v1")
            .Add<Ack>("bench.rawkv.ack.v1");

        /// <inheritdoc />
        public void Configure(AkkaConfigurationBuilder akka, GridContext context) =>
            akka.WithShardRegion<Region>(
                RawKv.Name,
                id => Props.Create(() => new Entity(id)),
                new GridMessageExtractor(context.Options.Kv.Partitions),
                new ShardOptions { Role = RawKv.Name, StateStoreMode = StateStoreMode.DData, RememberEntities = false });
    }

    private sealed class Entity : UntypedPersistentActor
    {
        private readonly Dictionary<string, byte[]> _state = new(StringComparer.Ordinal);
        private readonly List<(Put Command, IActorRef Sender)> _buffer = [];
        private bool _flushScheduled;

        public Entity(string entityId)
        {
            PersistenceId = entityId;
            JournalPluginId = ActorGridHocon.JournalPluginId;
            SnapshotPluginId = ActorGridHocon.SnapshotPluginId;
        }

        public override string PersistenceId { get; }

        protected override void OnRecover(object message)
        {
            if (message is Stored stored)
            {
                _state[stored.Key] = stored.Value;
            }
        }

        protected override void OnCommand(object message)
        {
            switch (message)
            {
                case Put put:
                    _buffer.Add((put, Sender));
                    if (!_flushScheduled)
                    {
                        _flushScheduled = true;
                        Self.Tell(Flush.Instance);
                    }

                    break;
                case Flush:
                    _flushScheduled = false;
                    var batch = _buffer.ToList();
                    _buffer.Clear();
                    var next = 0;
                    PersistAll(batch.Select(b => new Stored(b.Command.Key, b.Command.Value)), stored =>
                    {
                        _state[stored.Key] = stored.Value;
                        batch[next++].Sender.Tell(new Ack(LastSequenceNr));
                    });
                    break;
            }
        }

        private sealed class Flush
        {
            public static readonly Flush Instance = new();
        }
    }
}
