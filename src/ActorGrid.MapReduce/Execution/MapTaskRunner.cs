#nullable enable
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using ActorGrid.MapReduce.Jobs;

namespace ActorGrid.MapReduce.Execution;

/// <summary>
/// One map attempt's in-memory side: runs the map function, combines each emitted pair into the pairs seen so far
/// (when the job has a combiner), then splits the result over the reduce partitions and serializes it.
/// </summary>
internal sealed class MapTaskRunner<TValue> : MapTaskRunner, IMapOutput<TValue>
{
    private readonly IMapReduceJob<TValue> _job;
    private readonly int _reducers;
    private readonly int _chunkBytes;
    private readonly bool _combine;
    private readonly Dictionary<string, TValue> _combined = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TValue>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly List<KeyValuePair<string, TValue>> _uncombined = [];
    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);
    private long _inputRecords;
    private long _inputBytes;
    private long _outputRecords;

    public MapTaskRunner(IMapReduceJob<TValue> job, int reducers, int chunkBytes)
    {
        _job = job;
        _reducers = reducers;
        _chunkBytes = chunkBytes;
        _combine = job.HasCombiner;
        _lookup = _combined.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public override void Map(InputRecord record)
    {
        _inputRecords++;
        _inputBytes += record.ByteCount;
        _job.Map(record, this);
    }

    public void Emit(string key, TValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        _outputRecords++;
        if (!_combine)
        {
            _uncombined.Add(new(key, value));
            EstimatedBytes += PairBytes(key.Length);
            return;
        }

        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_combined, key, out var exists);
        slot = exists ? _job.Combine(slot!, value) : value;
        EstimatedBytes += exists ? 0 : PairBytes(key.Length);
    }

    private static long PairBytes(int keyChars) => 2L * keyChars + 64;

    public void Emit(ReadOnlySpan<char> key, TValue value)
    {
        if (!_combine)
        {
            Emit(key.ToString(), value);
            return;
        }

        _outputRecords++;
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_lookup, key, out var exists);
        slot = exists ? _job.Combine(slot!, value) : value;
        EstimatedBytes += exists ? 0 : PairBytes(key.Length);
    }

    public void IncrementCounter(string name, long by = 1) =>
        _counters[name] = _counters.GetValueOrDefault(name) + by;

    public override MapTaskOutput Finish()
    {
        var perReducer = new List<KeyValuePair<string, TValue>>[_reducers];
        for (var r = 0; r < _reducers; r++)
        {
            perReducer[r] = [];
        }

        IEnumerable<KeyValuePair<string, TValue>> pairs = _combine ? _combined : _uncombined;
        long shuffled = 0;
        foreach (var pair in pairs)
        {
            perReducer[Partitioner.ReducerOf(pair.Key, _reducers)].Add(pair);
            shuffled++;
        }

        var chunks = perReducer.Select(entries => ShuffleCodec<TValue>.Encode(entries, _chunkBytes)).ToArray();
        var counters = _counters.ToImmutableDictionary(StringComparer.Ordinal)
            .SetItem(JobCounters.MapInputRecords, _inputRecords)
            .SetItem(JobCounters.MapInputBytes, _inputBytes)
            .SetItem(JobCounters.MapOutputRecords, _outputRecords)
            .SetItem(JobCounters.CombineOutputRecords, shuffled);
        return new MapTaskOutput(chunks, counters);
    }
}

/// <summary>One reduce run's in-memory side: merges chunks (combining when the job can), sorts keys, reduces.</summary>
internal sealed class ReduceTaskRunner<TValue> : ReduceTaskRunner
{
    private readonly IMapReduceJob<TValue> _job;
    private readonly bool _combine;
    private readonly Dictionary<string, TValue> _combined = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TValue>.AlternateLookup<ReadOnlySpan<char>> _combinedLookup;
    private readonly Dictionary<string, List<TValue>> _grouped = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TValue>>.AlternateLookup<ReadOnlySpan<char>> _groupedLookup;
    private readonly ShufflePairAction<TValue> _add;
    private long _inputRecords;

    public ReduceTaskRunner(IMapReduceJob<TValue> job)
    {
        _job = job;
        _combine = job.HasCombiner;
        _combinedLookup = _combined.GetAlternateLookup<ReadOnlySpan<char>>();
        _groupedLookup = _grouped.GetAlternateLookup<ReadOnlySpan<char>>();
        _add = Add;
    }

    public override void Add(ReadOnlySpan<byte> payload) => ShuffleCodec<TValue>.Decode(payload, _add);

    public override (MapReduceProtocol.ResultItem[] Output, ImmutableDictionary<string, long> Counters) Finish()
    {
        var keys = _combine ? _combined.Keys.ToArray() : _grouped.Keys.ToArray();
        Array.Sort(keys, StringComparer.Ordinal);
        var output = new List<MapReduceProtocol.ResultItem>(keys.Length);
        foreach (var key in keys)
        {
            IReadOnlyList<TValue> values = _combine ? [_combined[key]] : _grouped[key];
            if (_job.Reduce(key, values) is { } value)
            {
                output.Add(new MapReduceProtocol.ResultItem(key, value));
            }
        }

        var counters = ImmutableDictionary.CreateRange(StringComparer.Ordinal, [
            KeyValuePair.Create(JobCounters.ReduceInputRecords, _inputRecords),
            KeyValuePair.Create(JobCounters.ReduceInputGroups, (long)keys.Length),
            KeyValuePair.Create(JobCounters.ReduceOutputRecords, (long)output.Count),
        ]);
        return ([.. output], counters);
    }

    private void Add(ReadOnlySpan<char> key, TValue value)
    {
        _inputRecords++;
        if (_combine)
        {
            ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_combinedLookup, key, out var exists);
            slot = exists ? _job.Combine(slot!, value) : value;
        }
        else
        {
            ref var list = ref CollectionsMarshal.GetValueRefOrAddDefault(_groupedLookup, key, out _);
            (list ??= []).Add(value);
        }
    }
}
