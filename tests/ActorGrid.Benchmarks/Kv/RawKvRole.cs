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
/// self-addressed flush collects them into the next <c>PersistAll</c>), and snapshotting with the same policy as
/// a KV partition (every <c>Persistence:SnapshotEvery</c> events, then deleting older snapshots and events). No
/// versions, preconditions, TTL, limits, replicas or load metering. Same journal, same serializer, same shard
/// region settings as the KV role.
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

    /// <summary>The entity's state.</summary>
    public sealed record Snapshot(Stored[] Entries) : IActorGridMessage;

    private static long _writes;
    private static long _events;

    /// <summary>Journal writes and events of every baseline entity in this process so far.</summary>
    public static (long Writes, long Events) Counters => (Interlocked.Read(ref _writes), Interlocked.Read(ref _events));

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
            .Add<Ack>("bench.rawkv.ack.v1")
            .Add<Snapshot>("bench.rawkv.snapshot.v1");

        /// <inheritdoc />
        public void Configure(AkkaConfigurationBuilder akka, GridContext context) =>
            akka.WithShardRegion<Region>(
                RawKv.Name,
                id => Props.Create(() => new Entity(id, context.Options.Persistence.SnapshotEvery)),
                new GridMessageExtractor(context.Options.Kv.Partitions),
                new ShardOptions { Role = RawKv.Name, StateStoreMode = StateStoreMode.DData, RememberEntities = false });
    }

    private sealed class Entity : UntypedPersistentActor
    {
        private readonly Dictionary<string, byte[]> _state = new(StringComparer.Ordinal);
        private readonly List<(Put Command, IActorRef Sender)> _buffer = [];
        private readonly int _snapshotEvery;
        private bool _flushScheduled;
        private long _sinceSnapshot;

        public Entity(string entityId, int snapshotEvery)
        {
            _snapshotEvery = snapshotEvery;
            PersistenceId = entityId;
            JournalPluginId = ActorGridHocon.JournalPluginId;
            SnapshotPluginId = ActorGridHocon.SnapshotPluginId;
        }

        public override string PersistenceId { get; }

        protected override void OnRecover(object message)
        {
            switch (message)
            {
                case SnapshotOffer { Snapshot: Snapshot snapshot }:
                    foreach (var entry in snapshot.Entries)
                    {
                        _state[entry.Key] = entry.Value;
                    }

                    break;
                case Stored stored:
                    _state[stored.Key] = stored.Value;
                    break;
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
                    Interlocked.Increment(ref _writes);
                    Interlocked.Add(ref _events, batch.Count);
                    PersistAll(batch.Select(b => new Stored(b.Command.Key, b.Command.Value)), stored =>
                    {
                        _state[stored.Key] = stored.Value;
                        batch[next++].Sender.Tell(new Ack(LastSequenceNr));
                        if (++_sinceSnapshot >= _snapshotEvery && next == batch.Count)
                        {
                            _sinceSnapshot = 0;
                            SaveSnapshot(new Snapshot([.. _state.Select(e => new Stored(e.Key, e.Value))]));
                        }
                    });
                    break;
                case SaveSnapshotSuccess saved:
                    DeleteSnapshots(new SnapshotSelectionCriteria(saved.Metadata.SequenceNr - 1));
                    DeleteMessages(saved.Metadata.SequenceNr);
                    break;
            }
        }

        private sealed class Flush
        {
            public static readonly Flush Instance = new();
        }
    }
}
