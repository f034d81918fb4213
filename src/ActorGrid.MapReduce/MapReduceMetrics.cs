#nullable enable
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ActorGrid.Observability;
using Akka.Actor;

namespace ActorGrid.MapReduce;

/// <summary>
/// MapReduce's instruments on this node (meter <c>ActorGrid.MapReduce</c>), counted where the event is durable (the
/// job's coordinator) or where the work happens (the map worker): jobs submitted and finished, map attempts started
/// (speculative or not), retried and failed, reduce tasks completed, and shuffle bytes sent to reducers.
/// </summary>
internal sealed class MapReduceMetrics
{
    private readonly Counter<long> _jobsSubmitted;
    private readonly Counter<long> _jobsFinished;
    private readonly Counter<long> _attempts;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _attemptsFailed;
    private readonly Counter<long> _reduceTasks;
    private readonly Counter<long> _shuffleBytes;

    private MapReduceMetrics(Meter meter)
    {
        _jobsSubmitted = meter.CreateCounter<long>("actorgrid.mapreduce.jobs.submitted", "{job}", "Jobs accepted, by type");
        _jobsFinished = meter.CreateCounter<long>("actorgrid.mapreduce.jobs.finished", "{job}", "Jobs that completed, failed or were cancelled");
        _attempts = meter.CreateCounter<long>("actorgrid.mapreduce.map.attempts", "{attempt}", "Map task attempts started (speculative=true: a copy of a slow attempt)");
        _retries = meter.CreateCounter<long>("actorgrid.mapreduce.map.retries", "{attempt}", "Map attempts started because an earlier attempt of the task failed or was lost");
        _attemptsFailed = meter.CreateCounter<long>("actorgrid.mapreduce.map.attempts.failed", "{attempt}", "Map attempts that failed, by outcome");
        _reduceTasks = meter.CreateCounter<long>("actorgrid.mapreduce.reduce.tasks.completed", "{task}", "Reduce tasks completed");
        _shuffleBytes = meter.CreateCounter<long>("actorgrid.mapreduce.shuffle.bytes", "By", "Encoded map output sent to reduce partitions");
    }

    public static MapReduceMetrics For(ActorSystem system) =>
        NodeTelemetry.For(system).Get(t => new MapReduceMetrics(t.Meter(GridTelemetry.MapReduceMeter)));

    public void JobSubmitted(string type) => _jobsSubmitted.Add(1, new KeyValuePair<string, object?>("actorgrid.job.type", type));

    public void JobFinished(string type, string outcome) =>
        _jobsFinished.Add(1, new TagList { { "actorgrid.job.type", type }, { "actorgrid.outcome", outcome } });

    public void MapAttemptStarted(int attempt, bool speculative)
    {
        _attempts.Add(1, new KeyValuePair<string, object?>("speculative", speculative));
        if (attempt > 1 && !speculative)
        {
            _retries.Add(1);
        }
    }

    public void MapAttemptFailed(string outcome) => _attemptsFailed.Add(1, new KeyValuePair<string, object?>("actorgrid.outcome", outcome));

    public void ReduceTaskCompleted() => _reduceTasks.Add(1);

    public void Shuffled(long bytes) => _shuffleBytes.Add(bytes);
}
