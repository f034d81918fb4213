using ActorGrid.MapReduce.Jobs;

namespace ActorGrid.MapReduce.Tests;

/// <summary>
/// Word count whose every reduce value is <c>parameters.chars</c> times 'é' (six bytes each serialized, as <c>\u00E9</c>):
/// a user job type with result items as large as a test needs.
/// </summary>
public sealed class WideValueJob : IMapReduceJob<long>
{
    public const string Name = "wide-values";

    private readonly WordCountJob _inner = new();
    private int _chars;

    public void Initialize(JobParameters parameters) => _chars = parameters.GetInt32("chars", 1, 1, 10_000_000);

    public void Map(InputRecord record, IMapOutput<long> output) => _inner.Map(record, output);

    public long Combine(long left, long right) => left + right;

    public string? Reduce(string key, IReadOnlyList<long> values) => new('é', _chars);
}
