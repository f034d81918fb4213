#nullable enable
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Serialization;
using System.Text.Json.Serialization;

namespace ActorGrid.KeyValue;

/// <summary>
/// The key-value role's protocol: commands to a partition, the events it journals, its replies, the messages that
/// keep per-node replicas in step, and the role's settings. Manifests are part of the journal format: never rename
/// one; add a new versioned type instead.
/// </summary>
public static class KvProtocol
{
    /// <summary>The cluster role and sharding type name of KV partitions.</summary>
    public const string RoleName = "kv";

    // ---- Preconditions ------------------------------------------------------------------------------------------

    /// <summary>What a conditional write requires of the key's current state.</summary>
    public enum PreconditionKind
    {
        /// <summary>Unconditional.</summary>
        None,

        /// <summary><c>If-Match: "&lt;version&gt;"</c>: the key exists at exactly this version (compare-and-set).</summary>
        Version,

        /// <summary><c>If-Match: *</c>: the key exists at any version.</summary>
        Exists,

        /// <summary><c>If-None-Match: *</c>: the key does not exist (absent, deleted or expired): create-only.</summary>
        Absent,
    }

    /// <summary>A write's precondition.</summary>
    public sealed record Precondition(PreconditionKind Kind, long Version = 0)
    {
        /// <summary>No precondition.</summary>
        public static readonly Precondition None = new(PreconditionKind.None);

        /// <summary>Create-only.</summary>
        public static readonly Precondition Absent = new(PreconditionKind.Absent);

        /// <summary>Any existing version.</summary>
        public static readonly Precondition Exists = new(PreconditionKind.Exists);

        /// <summary>Exactly <paramref name="version"/> (compare-and-set).</summary>
        public static Precondition ForVersion(long version) => new(PreconditionKind.Version, version);
    }

    // ---- Commands and queries to a partition (routed by the shard region) ---------------------------------------

    /// <summary>
    /// Writes <paramref name="Value"/> under <paramref name="Key"/>; expires <paramref name="TtlSeconds"/> after the write
    /// when set. With <paramref name="IdempotencyKey"/>, a retry of the same request gets the original answer and
    /// writes nothing (see <see cref="IdempotentWrites"/>).
    /// </summary>
    public sealed record Put(string EntityId, string Key, byte[] Value, Precondition Precondition, long? TtlSeconds, string? IdempotencyKey = null)
        : IWithEntityId, IActorGridMessage;

    /// <summary>
    /// Deletes <paramref name="Key"/> (its version is kept as a tombstone, so a re-create continues the count); with
    /// <paramref name="IdempotencyKey"/>, a retry of the same request gets the original answer.
    /// </summary>
    public sealed record Delete(string EntityId, string Key, Precondition Precondition, string? IdempotencyKey = null) : IWithEntityId, IActorGridMessage;

    /// <summary>Reads <paramref name="Key"/> from the owning partition (linearizable).</summary>
    public sealed record Get(string EntityId, string Key) : IWithEntityId, IActorGridMessage;

    /// <summary>
    /// One partition's share of a prefix scan: live keys starting with <paramref name="Prefix"/>, strictly after
    /// <paramref name="After"/>, in ordinal order, at most <paramref name="Limit"/> items and about
    /// <paramref name="MaxBytes"/> of values (always at least one item).
    /// </summary>
    public sealed record Scan(string EntityId, string Prefix, string? After, int Limit, int MaxBytes) : IWithEntityId, IActorGridMessage;

    /// <summary>
    /// One atomic command on a partition: <paramref name="Ops"/> are decided in order against the partition's
    /// state and journaled in one write, all or nothing (the Redis front door's INCR, SET … GET, MSETNX and
    /// MULTI/EXEC). With <paramref name="Watches"/>, nothing is done (<see cref="ExecuteStatus.Aborted"/>) unless
    /// every watched key still has the live version it was watched at (0: absent).
    /// </summary>
    public sealed record Execute(string EntityId, KvOp[] Ops, WatchedKey[]? Watches = null) : IWithEntityId, IActorGridMessage;

    /// <summary>A key and the live version (0: absent) it must still have for an <see cref="Execute"/> to run.</summary>
    public sealed record WatchedKey(string Key, long Version);

    /// <summary>What a <see cref="KvOp"/> does (Redis string and key commands).</summary>
    public enum KvOpCode
    {
        /// <summary>Read the value (GET).</summary>
        Get,

        /// <summary>Write the value (SET with its NX/XX/GET/expiry options).</summary>
        Set,

        /// <summary>Delete the key (DEL); with <see cref="KvOp.ReturnOld"/>, GETDEL.</summary>
        Delete,

        /// <summary>Add <see cref="KvOp.Amount"/> to a 64-bit integer value (INCRBY, DECRBY, INCR, DECR).</summary>
        IncrBy,

        /// <summary>Add <see cref="KvOp.Increment"/> to a floating point value (INCRBYFLOAT).</summary>
        IncrByFloat,

        /// <summary>Append <see cref="KvOp.Value"/> (APPEND).</summary>
        Append,

        /// <summary>Change the expiry of a live key (EXPIRE…, PERSIST; with <see cref="KvOp.ReturnOld"/>, GETEX).</summary>
        Expire,

        /// <summary>Version, value and expiry of the key, read-only (EXISTS, STRLEN, TTL, TYPE, WATCH).</summary>
        Inspect,
    }

    /// <summary>A SET's condition on the key's current state.</summary>
    public enum SetCondition
    {
        /// <summary>Unconditional.</summary>
        None,

        /// <summary>NX: only when the key does not exist.</summary>
        NotExists,

        /// <summary>XX: only when the key exists.</summary>
        Exists,
    }

    /// <summary>How a write sets the key's expiry.</summary>
    public enum ExpiryMode
    {
        /// <summary>No expiry (a plain SET clears the TTL; PERSIST).</summary>
        Clear,

        /// <summary>Keep the current expiry (KEEPTTL, INCR, APPEND).</summary>
        Keep,

        /// <summary>Expire <see cref="KvOp.Expiry"/> ms after the write is decided (EX, PX, EXPIRE, PEXPIRE).</summary>
        AfterMs,

        /// <summary>Expire at Unix time <see cref="KvOp.Expiry"/> ms (EXAT, PXAT, EXPIREAT, PEXPIREAT).</summary>
        AtUnixMs,
    }

    /// <summary>One operation of an <see cref="Execute"/>; which fields matter depends on <paramref name="Code"/>.</summary>
    public sealed record KvOp(
        KvOpCode Code,
        string Key,
        byte[]? Value = null,
        long Amount = 0,
        double Increment = 0,
        SetCondition Condition = SetCondition.None,
        ExpiryMode ExpiryMode = ExpiryMode.Keep,
        long Expiry = 0,
        bool ReturnOld = false);

    /// <summary>How one op of an <see cref="Execute"/> ended.</summary>
    public enum KvOpOutcome
    {
        /// <summary>Done (written, deleted, or read); see the result's fields.</summary>
        Done,

        /// <summary>Nothing to do: SET's condition failed, or DEL/EXPIRE of an absent key.</summary>
        Skipped,

        /// <summary>Refused with <see cref="KvOpResult.Error"/> (not an integer, overflow, too large…); nothing changed.</summary>
        Error,
    }

    /// <summary>
    /// The result of one op: the key's live version after it (0: absent), its value (the old one for
    /// <see cref="KvOp.ReturnOld"/>), the integer result (INCRBY's value, APPEND's length) and the key's expiry.
    /// </summary>
    public sealed record KvOpResult(KvOpOutcome Outcome, long Version = 0, byte[]? Value = null, long Integer = 0, long? ExpiresAtUnixMs = null, string? Error = null);

    /// <summary>How an <see cref="Execute"/> ended.</summary>
    public enum ExecuteStatus
    {
        /// <summary>Every op was decided (some may have failed individually) and the writes are durable.</summary>
        Done,

        /// <summary>A watched key changed: nothing was done.</summary>
        Aborted,

        /// <summary>The journal refused the write: nothing was done.</summary>
        Failed,
    }

    /// <summary>The answer to <see cref="Execute"/>: one result per op, in order (empty unless <see cref="ExecuteStatus.Done"/>).</summary>
    public sealed record ExecuteResult(ExecuteStatus Status, KvOpResult[] Results, string? Error = null) : IActorGridMessage;

    /// <summary>Counters of one partition incarnation (tests, diagnostics).</summary>
    public sealed record GetPartitionStats(string EntityId) : IWithEntityId, IActorGridMessage;

    /// <summary>
    /// Sent by a node's replica to a partition every refresh interval: (re)subscribes the sender to the partition's
    /// applied changes for a lease. <paramref name="AppliedSequenceNr"/> is the last event the replica applied, or
    /// <c>-1</c> to ask for a full copy of the partition.
    /// </summary>
    public sealed record FollowPartition(string EntityId, long AppliedSequenceNr) : IWithEntityId, IActorGridMessage;

    /// <summary>
    /// Sent by the shard to a partition that hands off or passivates: finish the journal write in flight and the
    /// writes already queued, answer them, then stop (instead of <c>PoisonPill</c>, which would drop them).
    /// </summary>
    public sealed record StopPartition : IActorGridMessage
    {
        /// <summary>The instance.</summary>
        public static readonly StopPartition Instance = new();
    }

    // ---- Events (journaled) and snapshot ------------------------------------------------------------------------

    // Idempotency was added to v1 of both events as an optional member, left out of the payload when null: every
    // event stored before it reads as a write without an Idempotency-Key, and writes without one keep their old bytes.

    /// <summary>
    /// A value was written at <paramref name="Version"/>; absent from <paramref name="ExpiresAtUnixMs"/> on when set.
    /// <paramref name="Idempotency"/>: the write carried an <c>Idempotency-Key</c>, remembered with it.
    /// </summary>
    public sealed record ValueWritten(
        string Key, long Version, byte[] Value, long? ExpiresAtUnixMs,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IdempotencyRecord? Idempotency = null) : IActorGridMessage;

    /// <summary>
    /// The key was deleted; <paramref name="Version"/> is the deleted version, kept as a tombstone.
    /// <paramref name="Idempotency"/>: the delete carried an <c>Idempotency-Key</c>, remembered with it.
    /// </summary>
    public sealed record ValueDeleted(
        string Key, long Version,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IdempotencyRecord? Idempotency = null) : IActorGridMessage;

    /// <summary>
    /// The <c>Idempotency-Key</c> a write carried, the fingerprint of its request (<see cref="IdempotentWrites.Fingerprint(Put)"/>)
    /// and when it was decided (the owner's clock, Unix ms): journaled inside the write's event.
    /// </summary>
    public sealed record IdempotencyRecord(string IdempotencyKey, long Fingerprint, long AtUnixMs);

    /// <summary>One key's stored state. A null <paramref name="Value"/> is a tombstone that keeps the version count.</summary>
    public sealed record Entry(string Key, long Version, byte[]? Value, long? ExpiresAtUnixMs)
    {
        /// <summary>Whether the entry holds a value that has not expired at <paramref name="nowUnixMs"/>.</summary>
        public bool IsLiveAt(long nowUnixMs) => Value is not null && (ExpiresAtUnixMs is not { } at || nowUnixMs < at);

        /// <summary>
        /// At least the bytes the entry takes in a serialized message: a JSON string escapes a UTF-16 unit in at most
        /// 6 bytes, a value is base64 (4 bytes per 3), plus member names. Chunks of remote messages are cut by this,
        /// not by value bytes alone, so that many small keys cannot make a message larger than the remoting frame.
        /// </summary>
        public long WireSize() => 6L * Key.Length + (Value is null ? 0 : ActorGridSerializer.JsonBase64Bytes(Value.Length)) + 96;
    }

    /// <summary>
    /// A partition's whole state (tombstones included), as persisted: its own versioned type, so the state's
    /// <see cref="Entry"/> can change without breaking stored snapshots. <paramref name="VersionFloor"/> and
    /// <paramref name="PurgedFilter"/> are the <see cref="PurgedKeys"/> of compaction (added members: snapshots
    /// written before them read as nothing purged). <paramref name="Writes"/> are the writes remembered by their
    /// <c>Idempotency-Key</c>, oldest first (an added member, left out when there are none).
    /// </summary>
    public sealed record PartitionSnapshot(
        PartitionSnapshotEntry[] Entries, long VersionFloor = 0, byte[]? PurgedFilter = null,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] PartitionSnapshotWrite[]? Writes = null) : IActorGridMessage;

    /// <summary>One key in a <see cref="PartitionSnapshot"/> (a null <paramref name="Value"/> is a tombstone).</summary>
    public sealed record PartitionSnapshotEntry(string Key, long Version, byte[]? Value, long? ExpiresAtUnixMs);

    /// <summary>
    /// One write remembered by its <c>Idempotency-Key</c> in a <see cref="PartitionSnapshot"/>: the answer it got was
    /// <c>Written</c> at <paramref name="Version"/>, or <c>Deleted</c> at it when <paramref name="Deleted"/>.
    /// </summary>
    public sealed record PartitionSnapshotWrite(string Key, string IdempotencyKey, long Fingerprint, long AtUnixMs, bool Deleted, long Version);

    // ---- Replies ------------------------------------------------------------------------------------------------

    /// <summary>How a write ended.</summary>
    public enum WriteStatus
    {
        /// <summary>Stored durably; <see cref="WriteResult.Version"/> is the new version.</summary>
        Written,

        /// <summary>Deleted durably.</summary>
        Deleted,

        /// <summary>Delete of an absent key.</summary>
        NotFound,

        /// <summary>The precondition did not hold; <see cref="WriteResult.Version"/> is the current version (0 when absent).</summary>
        PreconditionFailed,

        /// <summary>Malformed key or TTL; nothing was changed.</summary>
        Invalid,

        /// <summary>The <c>Idempotency-Key</c> was used before for a different request on this key; nothing was changed.</summary>
        IdempotencyKeyReused,

        /// <summary>The value is larger than allowed; nothing was changed.</summary>
        TooLarge,

        /// <summary>
        /// The partition could not complete the write now (the journal refused or failed it, or the partition is
        /// moving): retry. A refused write changed nothing; after a journal failure the write may have been stored.
        /// </summary>
        Unavailable,
    }

    /// <summary>The answer to <see cref="Put"/> and <see cref="Delete"/>.</summary>
    public sealed record WriteResult(WriteStatus Status, long Version, string? Error = null) : IActorGridMessage;

    /// <summary>
    /// The answer to a read. <paramref name="StalenessMs"/> and <paramref name="EventsBehind"/> are set by replica
    /// reads: how long ago the replica last confirmed it was in step with the partition, and how many events it
    /// knows it is missing.
    /// </summary>
    public sealed record GetResult(bool Found, long Version, byte[]? Value, long? ExpiresAtUnixMs, long? StalenessMs = null, long? EventsBehind = null)
        : IActorGridMessage
    {
        /// <summary>Absent (never written, deleted or expired).</summary>
        public static readonly GetResult Absent = new(false, 0, null, null);
    }

    /// <summary>One partition's page of a scan. <paramref name="More"/>: the partition has further matching keys.</summary>
    public sealed record ScanResult(Entry[] Items, bool More) : IActorGridMessage;

    /// <summary>
    /// Counters of one partition incarnation: the node it runs on, its last journaled event, the journal writes and
    /// events since it started, keys held (tombstones included), replicas following it, and the snapshot it
    /// recovered from (0: none).
    /// </summary>
    /// <param name="Node">The node it runs on.</param>
    /// <param name="SequenceNr">Its last journaled event.</param>
    /// <param name="Batches">Journal writes since it started.</param>
    /// <param name="Events">Events written since it started.</param>
    /// <param name="Keys">Keys held, tombstones included.</param>
    /// <param name="Followers">Replicas following it.</param>
    /// <param name="RecoveredFromSnapshot">The snapshot it recovered from (0: none).</param>
    /// <param name="LiveKeys">Keys readable now.</param>
    /// <param name="Tombstones">Deleted or expired keys not yet purged by compaction.</param>
    /// <param name="Bytes">Bytes of the keys and values held (and of the purged-keys filter).</param>
    /// <param name="SavedSnapshot">The newest snapshot known saved: the one recovered from or a later one (0: none).</param>
    public sealed record PartitionStatsResult(
        string Node, long SequenceNr, long Batches, long Events, int Keys, int Followers, long RecoveredFromSnapshot,
        long LiveKeys = 0, long Tombstones = 0, long Bytes = 0, long SavedSnapshot = 0)
        : IActorGridMessage;

    // ---- Replication (partition → a node's replica) -------------------------------------------------------------

    /// <summary>
    /// Part of a full copy of a partition at <paramref name="SequenceNr"/>; chunks of one copy arrive in order,
    /// the first with <paramref name="First"/>, the last with <paramref name="Last"/>.
    /// </summary>
    public sealed record ReplicaSyncChunk(string EntityId, long SequenceNr, Entry[] Entries, bool First, bool Last) : IActorGridMessage;

    /// <summary>The entries changed by the events <paramref name="FromSequenceNr"/>..<paramref name="ToSequenceNr"/>, in order, one per event.</summary>
    public sealed record ReplicaDelta(string EntityId, long FromSequenceNr, long ToSequenceNr, Entry[] Changes) : IActorGridMessage;

    /// <summary>The partition's last journaled event, in answer to <see cref="FollowPartition"/>.</summary>
    public sealed record ReplicaHeartbeat(string EntityId, long SequenceNr) : IActorGridMessage;

    // ---- Load (hot-spot view) -----------------------------------------------------------------------------------

    /// <summary>Asks a node's load reporter for the recent load of the partitions it hosts.</summary>
    public sealed record GetPartitionLoads : IActorGridMessage
    {
        /// <summary>The instance.</summary>
        public static readonly GetPartitionLoads Instance = new();
    }

    /// <summary>A partition's recent operations per second.</summary>
    public sealed record PartitionLoad(string EntityId, double OpsPerSecond) : IActorGridMessage;

    /// <summary>The recent load of every partition hosted on a node.</summary>
    public sealed record PartitionLoadsResult(PartitionLoad[] Loads) : IActorGridMessage;

    /// <summary>A partition stopped on this node (it passivated or handed off).</summary>
    public sealed record PartitionStopped(string EntityId) : IActorGridMessage;

    /// <summary>Registers every wire and persisted type of the role.</summary>
    public static void RegisterManifests(ManifestRegistry manifests) => manifests
        .Add<Put>("kv.put.v1")
        .Add<Delete>("kv.delete.v1")
        .Add<Get>("kv.get.v1")
        .Add<Scan>("kv.scan.v1")
        .Add<Execute>("kv.execute.v1")
        .Add<ExecuteResult>("kv.execute-result.v1")
        .Add<GetPartitionStats>("kv.get-partition-stats.v1")
        .Add<FollowPartition>("kv.follow-partition.v1")
        .Add<StopPartition>("kv.stop-partition.v1")
        .Add<ValueWritten>("kv.value-written.v1")
        .Add<ValueDeleted>("kv.value-deleted.v1")
        .Add<PartitionSnapshot>("kv.partition-snapshot.v1")
        .Add<WriteResult>("kv.write-result.v1")
        .Add<GetResult>("kv.get-result.v1")
        .Add<ScanResult>("kv.scan-result.v1")
        .Add<PartitionStatsResult>("kv.partition-stats-result.v1")
        .Add<ReplicaSyncChunk>("kv.replica-sync-chunk.v1")
        .Add<ReplicaDelta>("kv.replica-delta.v1")
        .Add<ReplicaHeartbeat>("kv.replica-heartbeat.v1")
        .Add<GetPartitionLoads>("kv.get-partition-loads.v1")
        .Add<PartitionLoad>("kv.partition-load.v1")
        .Add<PartitionLoadsResult>("kv.partition-loads-result.v1")
        .Add<PartitionStopped>("kv.partition-stopped.v1");

    /// <summary>The role's settings.</summary>
    /// <param name="Partitions">Fixed number of partitions (<c>Kv:Partitions</c>).</param>
    /// <param name="MaxValueBytes">Largest value accepted (<c>Kv:MaxValueBytes</c>).</param>
    /// <param name="SnapshotEvery">Snapshot a partition every this many events.</param>
    /// <param name="AskTimeout">How long an HTTP request waits for the owning partition before answering 503.</param>
    /// <param name="MaxBatchEvents">Most events group-committed in one journal write.</param>
    /// <param name="MaxBatchBytes">About the most value bytes group-committed in one journal write.</param>
    /// <param name="ReplicaRefreshInterval">How often a replica re-subscribes to and hears from each partition it follows.</param>
    /// <param name="ReplicaIdleAfter">A replica stops following a partition nobody read from it for this long.</param>
    /// <param name="LoadWindow">Window of the per-partition ops/sec shown in <c>/cluster/shards</c>.</param>
    public sealed record Settings(
        int Partitions,
        int MaxValueBytes,
        int SnapshotEvery,
        TimeSpan AskTimeout,
        int MaxBatchEvents,
        int MaxBatchBytes,
        TimeSpan ReplicaRefreshInterval,
        TimeSpan ReplicaIdleAfter,
        TimeSpan LoadWindow)
    {
        /// <summary>Longest key in UTF-8 bytes.</summary>
        public const int MaxKeyBytes = 1024;

        /// <summary>Largest page of a scan.</summary>
        public const int MaxScanLimit = 1000;

        /// <summary>Page size of a scan without <c>limit</c>.</summary>
        public const int DefaultScanLimit = 100;

        /// <summary>Longest TTL accepted (100 years).</summary>
        public const long MaxTtlSeconds = 100L * 365 * 24 * 3600;

        /// <summary>About the most value bytes in one partition's scan reply or one replication message (fits the remoting frame).</summary>
        public int ChunkBytes => Math.Max(MaxValueBytes, 64 * 1024);

        /// <summary>About the most value bytes in one HTTP scan page.</summary>
        public int ScanPageBytes => Math.Max(MaxValueBytes, 4 * 1024 * 1024);

        /// <summary>
        /// How long a tombstone (or an expired value) is kept before compaction purges it (<c>Kv:TombstoneGracePeriod</c>);
        /// compaction runs this often. Purging never changes what is read; the grace only delays it.
        /// </summary>
        public TimeSpan TombstoneGracePeriod { get; init; } = TimeSpan.FromMinutes(10);

        /// <summary>How long a partition remembers a write by its <c>Idempotency-Key</c> (<c>Kv:IdempotencyWindow</c>).</summary>
        public TimeSpan IdempotencyWindow { get; init; } = IdempotencyLimits.Default.Window;

        /// <summary>Most writes a partition remembers by their <c>Idempotency-Key</c> (<c>Kv:MaxIdempotencyKeys</c>).</summary>
        public int MaxIdempotencyKeys { get; init; } = IdempotencyLimits.Default.MaxKeys;

        /// <summary>How long and how many writes a partition remembers by their <c>Idempotency-Key</c>.</summary>
        public IdempotencyLimits Idempotency => new(IdempotencyWindow, MaxIdempotencyKeys);

        /// <summary>Settings from a node's options.</summary>
        public static Settings Create(ActorGridOptions options) => new(
            options.Kv.Partitions,
            options.Kv.MaxValueBytes,
            options.Persistence.SnapshotEvery,
            options.Kv.AskTimeout,
            options.Kv.MaxBatchEvents,
            Math.Max(options.Kv.MaxBatchBytes, options.Kv.MaxValueBytes),
            options.Kv.ReplicaRefreshInterval,
            options.Kv.ReplicaIdleAfter,
            options.Kv.LoadWindow)
        {
            TombstoneGracePeriod = options.Kv.TombstoneGracePeriod,
            IdempotencyWindow = options.Kv.IdempotencyWindow,
            MaxIdempotencyKeys = options.Kv.MaxIdempotencyKeys,
        };
    }
}
