using ActorGrid.MapReduce.Jobs;

namespace ActorGrid.MapReduce.Tests;

/// <summary>
/// Word count that takes <c>parameters.delayMs</c> per record — a user job type registered with
/// <c>WithMapReduce(jobs =&gt; jobs.Add&lt;PacedWordCountJob&gt;(...))</c>, so that fault specs can act while a job runs.
/// </summary>
public sealed class PacedWordCountJob : IMapReduceJob<long>
{
    public const string Name = "paced-wordcount";

    private readonly WordCountJob _inner = new();
    private int _delayMs;

    public void Initialize(JobParameters parameters) => _delayMs = parameters.GetInt32("delayMs", 0, 0, 10_000);

    public void Map(InputRecord record, IMapOutput<long> output)
    {
        // Runs on a worker's thread-pool task, never on an actor.
        Thread.Sleep(_delayMs);
        _inner.Map(record, output);
    }

    public long Combine(long left, long right) => left + right;

    public string? Reduce(string key, IReadOnlyList<long> values) => _inner.Reduce(key, values);
}
