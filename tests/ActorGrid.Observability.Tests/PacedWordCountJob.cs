using ActorGrid.MapReduce.Jobs;

namespace ActorGrid.Observability.Tests;

/// <summary>Word count whose map sleeps per record (on a worker task, never an actor), so a job runs long enough to watch.</summary>
public sealed class PacedWordCountJob : IMapReduceJob<long>
{
    public const string Name = "paced-wordcount";

    private readonly WordCountJob _inner = new();
    private int _delayMs;

    public void Initialize(JobParameters parameters) => _delayMs = parameters.GetInt32("delayMs", 0, 0, 10_000);

    public void Map(InputRecord record, IMapOutput<long> output)
    {
        Thread.Sleep(_delayMs);
        _inner.Map(record, output);
    }

    public long Combine(long left, long right) => left + right;

    public string? Reduce(string key, IReadOnlyList<long> values) => _inner.Reduce(key, values);
}
