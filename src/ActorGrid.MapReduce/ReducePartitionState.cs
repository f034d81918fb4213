#nullable enable
using System.Collections.Immutable;
using ActorGrid.Serialization;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce;

/// <summary>One stored chunk of one map attempt's output.</summary>
internal readonly record struct ChunkId(int Task, int Attempt, int Chunk);

/// <summary>
/// The pure state of one reduce partition: the map output chunks it durably holds (of every attempt that delivered
/// any — only accepted attempts are reduced), its latest run and what it was asked to reduce, and once its output
/// is saved (a snapshot), the sorted output.
/// </summary>
internal sealed record ReducePartitionState(
    ImmutableDictionary<ChunkId, byte[]> Chunks,
    int Run,
    RunReduce? Request,
    bool Completed,
    ImmutableList<ResultItem> Output,
    ImmutableDictionary<string, long> Counters,
    bool Discarded)
{
    private static readonly IComparer<ResultItem> ByKey = Comparer<ResultItem>.Create((a, b) => string.CompareOrdinal(a.Key, b.Key));

    public static ReducePartitionState Empty { get; } =
        new(ImmutableDictionary<ChunkId, byte[]>.Empty, 0, null, false, [], ImmutableDictionary<string, long>.Empty, false);

    /// <summary>The state a snapshot of a finished partition describes.</summary>
    public static ReducePartitionState From(ReducePartitionSnapshot snapshot) =>
        Empty with { Run = snapshot.Run, Completed = !snapshot.Discarded, Output = [.. snapshot.Output], Counters = snapshot.Counters, Discarded = snapshot.Discarded };

    public ReducePartitionSnapshot ToSnapshot() => new(Run, [.. Output], Counters, Discarded);

    /// <summary>The partition once run <paramref name="run"/> produced <paramref name="output"/> (sorted by key).</summary>
    public ReducePartitionState Complete(int run, IReadOnlyList<ResultItem> output, ImmutableDictionary<string, long> counters) =>
        this with { Run = run, Completed = true, Output = [.. output], Counters = counters, Chunks = Chunks.Clear(), ChunkBytes = 0 };

    /// <summary>Bytes of the map output chunks held.</summary>
    public long ChunkBytes { get; init; }

    /// <summary>Why <paramref name="command"/>'s chunk would pass <paramref name="budget"/>, or null when it fits (or is a duplicate).</summary>
    public string? OverBudget(StoreMapOutput command, long budget) =>
        IsClosed || Chunks.ContainsKey(new ChunkId(command.Task, command.Attempt, command.Chunk)) || ChunkBytes + command.Payload.Length <= budget
            ? null
            : $"reduce partition {command.EntityId} would hold more than its memory budget of {budget} bytes of map output (MapReduce ShuffleBudgetBytes); use more reducers";

    /// <summary>Whether the partition is done with shuffle data (completed or discarded): late chunks are acknowledged and dropped.</summary>
    public bool IsClosed => Completed || Discarded;

    /// <summary>The event storing <paramref name="command"/>'s chunk; none when it is a duplicate or the partition is closed.</summary>
    public IReadOnlyList<IActorGridMessage> Store(StoreMapOutput command) =>
        IsClosed || Chunks.ContainsKey(new ChunkId(command.Task, command.Attempt, command.Chunk))
            ? []
            : [new MapOutputReceived(command.Task, command.Attempt, command.Chunk, command.Payload)];

    /// <summary>The accepted chunks this partition does not hold (empty when it can reduce).</summary>
    public IReadOnlyList<ChunkId> Missing(IEnumerable<AcceptedMapOutput> inputs) =>
        inputs.SelectMany(i => Enumerable.Range(0, i.Chunks).Select(c => new ChunkId(i.Task, i.Attempt, c)))
            .Where(id => !Chunks.ContainsKey(id))
            .ToList();

    /// <summary>The payloads of the accepted chunks, in task order.</summary>
    public IReadOnlyList<byte[]> Payloads(IEnumerable<AcceptedMapOutput> inputs) =>
        inputs.OrderBy(i => i.Task)
            .SelectMany(i => Enumerable.Range(0, i.Chunks).Select(c => Chunks[new ChunkId(i.Task, i.Attempt, c)]))
            .ToList();

    /// <summary>
    /// Up to <paramref name="limit"/> output items after <paramref name="after"/> and, past the first, no more than
    /// <paramref name="maxBytes"/> serialized (<see cref="ResultItem.WireSize"/>), and whether more follow. A first
    /// item larger than the budget comes back alone (a reduce run never keeps an item too large for one reply).
    /// </summary>
    public (ResultItem[] Items, bool More) Page(string? after, int limit, long maxBytes = Settings.ResultPageBytes)
    {
        var start = 0;
        if (after is not null)
        {
            var index = Output.BinarySearch(new ResultItem(after, ""), ByKey);
            start = index >= 0 ? index + 1 : ~index;
        }

        var items = new List<ResultItem>();
        var bytes = 0L;
        for (var i = start; i < Output.Count && items.Count < limit; i++)
        {
            var size = Output[i].WireSize();
            if (items.Count > 0 && bytes + size > maxBytes)
            {
                break;
            }

            items.Add(Output[i]);
            bytes += size;
        }

        return ([.. items], start + items.Count < Output.Count);
    }

    public ReducePartitionState Apply(IActorGridMessage @event) => @event switch
    {
        MapOutputReceived e => this with { Chunks = Chunks.SetItem(new ChunkId(e.Task, e.Attempt, e.Chunk), e.Payload), ChunkBytes = ChunkBytes + e.Payload.Length },
        ReduceRunStarted e => this with { Run = e.Run, Request = e.Request, Output = [] },
        ReduceDataDiscarded => this with { Discarded = true, Chunks = Chunks.Clear(), ChunkBytes = 0, Output = [] },
        _ => throw new ArgumentException($"{@event.GetType().Name} is not a reduce partition event", nameof(@event)),
    };
}
