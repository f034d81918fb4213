#nullable enable
using ActorGrid.MapReduce.Execution;
using ActorGrid.Naming;

namespace ActorGrid.MapReduce.Jobs;

/// <summary>
/// The job types a node can run, by name. The built-in types of SPEC §5 are always present; services embedding
/// ActorGrid add their own with <see cref="Add{TJob}(string)"/> — on every node, since any node may run any task.
/// </summary>
public sealed class MapReduceJobs
{
    private readonly Dictionary<string, JobDefinition> _jobs = new(StringComparer.Ordinal);

    /// <summary>A registry holding the built-in types: <c>wordcount</c>, <c>grep</c>, <c>count-by</c>, <c>sum-by</c>, <c>inverted-index</c>.</summary>
    public MapReduceJobs()
    {
        Add<WordCountJob>(WordCountJob.Name);
        Add<GrepJob>(GrepJob.Name);
        Add<CountByJob>(CountByJob.Name);
        Add<SumByJob>(SumByJob.Name);
        Add<InvertedIndexJob>(InvertedIndexJob.Name);
    }

    /// <summary>The registered type names, sorted.</summary>
    public IReadOnlyList<string> Names => _jobs.Keys.Order(StringComparer.Ordinal).ToList();

    /// <summary>Registers <typeparamref name="TJob"/> under <paramref name="name"/> (lower-case letters, digits, '-', '_', '.'; replaces an earlier registration).</summary>
    public MapReduceJobs Add<TJob>(string name) where TJob : IMapReduceJob, new() => Add(name, () => new TJob());

    /// <summary>Registers a job type under <paramref name="name"/>, created by <paramref name="factory"/> for every task.</summary>
    public MapReduceJobs Add(string name, Func<IMapReduceJob> factory)
    {
        if (!GridNames.JobType.IsValid(name))
        {
            throw new ArgumentException($"Job type name '{name}' must be 1-64 of [a-z0-9._-]", nameof(name));
        }

        _jobs[name] = JobDefinition.Create(name, factory);
        return this;
    }

    /// <summary>Whether <paramref name="name"/> is registered.</summary>
    public bool Contains(string name) => _jobs.ContainsKey(name);

    internal bool TryGet(string name, out JobDefinition definition) => _jobs.TryGetValue(name, out definition!);

    internal JobDefinition Get(string name) =>
        _jobs.TryGetValue(name, out var definition)
            ? definition
            : throw new InvalidOperationException($"job type '{name}' is not registered on this node");
}
