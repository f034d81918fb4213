#nullable enable
using System.Collections.Immutable;
using System.Reflection;
using ActorGrid.MapReduce.Jobs;

namespace ActorGrid.MapReduce.Execution;

/// <summary>A registered job type with its value type resolved, able to create typed map and reduce runners.</summary>
internal sealed class JobDefinition
{
    private static readonly MethodInfo CreateRunnersMethod =
        typeof(JobDefinition).GetMethod(nameof(CreateRunners), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly Func<IMapReduceJob, int, int, MapTaskRunner> _map;
    private readonly Func<IMapReduceJob, ReduceTaskRunner> _reduce;

    private JobDefinition(string name, Func<IMapReduceJob> factory, Type valueType,
        Func<IMapReduceJob, int, int, MapTaskRunner> map, Func<IMapReduceJob, ReduceTaskRunner> reduce)
    {
        Name = name;
        Factory = factory;
        ValueType = valueType;
        _map = map;
        _reduce = reduce;
    }

    public string Name { get; }

    public Func<IMapReduceJob> Factory { get; }

    public Type ValueType { get; }

    public static JobDefinition Create(string name, Func<IMapReduceJob> factory)
    {
        var sample = factory();
        var typed = sample.GetType().GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IMapReduceJob<>))
            .ToList();
        if (typed.Count != 1)
        {
            throw new ArgumentException($"{sample.GetType()} must implement IMapReduceJob<TValue> exactly once", nameof(factory));
        }

        var valueType = typed[0].GetGenericArguments()[0];
        var runners = ((Func<IMapReduceJob, int, int, MapTaskRunner>, Func<IMapReduceJob, ReduceTaskRunner>))
            CreateRunnersMethod.MakeGenericMethod(valueType).Invoke(null, null)!;
        return new JobDefinition(name, factory, valueType, runners.Item1, runners.Item2);
    }

    /// <summary>A new instance initialized with <paramref name="parameters"/>.</summary>
    /// <exception cref="InvalidJobParametersException">when the parameters are invalid.</exception>
    public IMapReduceJob Instantiate(JobParameters parameters)
    {
        var job = Factory();
        job.Initialize(parameters);
        return job;
    }

    public MapTaskRunner CreateMapRunner(JobParameters parameters, int reducers, int chunkBytes) =>
        _map(Instantiate(parameters), reducers, chunkBytes);

    public ReduceTaskRunner CreateReduceRunner(JobParameters parameters) => _reduce(Instantiate(parameters));

    private static (Func<IMapReduceJob, int, int, MapTaskRunner>, Func<IMapReduceJob, ReduceTaskRunner>) CreateRunners<TValue>() =>
        ((job, reducers, chunkBytes) => new MapTaskRunner<TValue>((IMapReduceJob<TValue>)job, reducers, chunkBytes),
         job => new ReduceTaskRunner<TValue>((IMapReduceJob<TValue>)job));
}

/// <summary>What one map attempt produced: serialized chunks per reduce partition and its counters.</summary>
internal sealed record MapTaskOutput(byte[][][] ChunksPerReducer, ImmutableDictionary<string, long> Counters);

/// <summary>Runs a job's map function over records, combining on the way, then partitions and serializes the output.</summary>
internal abstract class MapTaskRunner
{
    public abstract void Map(InputRecord record);

    public abstract MapTaskOutput Finish();

    /// <summary>About the bytes the output held so far takes in memory (keys as UTF-16, plus per-pair overhead).</summary>
    public long EstimatedBytes { get; protected set; }
}

/// <summary>Merges map output chunks of one reduce partition, then sorts by key and reduces.</summary>
internal abstract class ReduceTaskRunner
{
    public abstract void Add(ReadOnlySpan<byte> payload);

    public abstract (MapReduceProtocol.ResultItem[] Output, ImmutableDictionary<string, long> Counters) Finish();
}
