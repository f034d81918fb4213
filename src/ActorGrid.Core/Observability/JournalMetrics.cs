#nullable enable
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ActorGrid.Entities;

namespace ActorGrid.Observability;

/// <summary>
/// Journal writes (meter <c>ActorGrid.Journal</c>): how many, how many events each carried (the group-commit batch)
/// and how long each took, by entity kind. Each write is also a span, child of the request that caused it. And the
/// journal's transactions: how many entity writes each one carried (the node-wide group commit).
/// </summary>
public sealed class JournalMetrics
{
    private readonly Counter<long> _writes;
    private readonly Counter<long> _events;
    private readonly Histogram<long> _eventsPerWrite;
    private readonly Histogram<double> _duration;
    private readonly Histogram<long> _writesPerTransaction;
    private readonly Histogram<double> _transactionDuration;

    /// <summary>Seconds: the buckets of the write and transaction durations.</summary>
    private static readonly double[] DurationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

    internal JournalMetrics(Meter meter)
    {
        _writes = meter.CreateCounter<long>("actorgrid.journal.writes", "{write}", "Atomic journal writes completed");
        _events = meter.CreateCounter<long>("actorgrid.journal.events", "{event}", "Events written to the journal");
        _eventsPerWrite = meter.CreateHistogram<long>("actorgrid.journal.write.events", "{event}", "Events per journal write (group-commit batch size)",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
        _duration = meter.CreateHistogram<double>("actorgrid.journal.write.duration", "s", "Duration of a journal write",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _writesPerTransaction = meter.CreateHistogram<long>(TransactionWritesInstrument, "{write}", "Entity writes carried by one journal transaction (one commit, one fsync)",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
        _transactionDuration = meter.CreateHistogram<double>(TransactionDurationInstrument, "s",
            "Duration of one journal transaction, from its writes' serialization to their commit (one at a time: the sum's rate is the journal's utilization)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    /// <summary>The histogram of entity writes per journal transaction.</summary>
    public const string TransactionWritesInstrument = "actorgrid.journal.transaction.writes";

    private const string TransactionDurationInstrument = "actorgrid.journal.transaction.duration";

    /// <summary>Records one journal transaction that carried <paramref name="writes"/> entity writes and took <paramref name="duration"/>.</summary>
    public void RecordTransaction(int writes, TimeSpan duration)
    {
        _writesPerTransaction.Record(writes);
        _transactionDuration.Record(duration.TotalSeconds);
    }

    /// <summary>
    /// Starts timing a write of <paramref name="events"/> events by an entity of kind <paramref name="entity"/>
    /// (<c>kv.partition</c>, <c>broker.partition</c>, ...); call <see cref="JournalWrite.Complete"/> once it is durable.
    /// </summary>
    /// <remarks>
    /// The write's span is a child of the current span, or else of the first traced command it carries
    /// (<paramref name="causes"/>), linked to the others: one write serves many requests.
    /// </remarks>
    public JournalWrite Begin(string entity, string persistenceId, int events, IReadOnlyList<ActivityContext>? causes = null)
    {
        var activity = StartSpan(causes);
        if (activity is not null)
        {
            activity.SetTag("actorgrid.entity", entity);
            activity.SetTag("actorgrid.persistence_id", persistenceId);
            activity.SetTag("actorgrid.journal.events", events);

            // The write completes on another message: it must not stay the current activity of this thread.
            Activity.Current = activity.Parent;
        }

        return new JournalWrite(this, entity, events, Stopwatch.GetTimestamp(), activity);
    }

    private static Activity? StartSpan(IReadOnlyList<ActivityContext>? causes)
    {
        if (Activity.Current is not null)
        {
            return GridTelemetry.Source.StartActivity("journal write", ActivityKind.Client);
        }

        if (causes is null || !GridTelemetry.Source.HasListeners())
        {
            return null;
        }

        ActivityContext parent = default;
        List<ActivityLink>? links = null;
        foreach (var cause in causes)
        {
            if (cause == default)
            {
                continue;
            }

            if (parent == default)
            {
                parent = cause;
            }
            else
            {
                (links ??= []).Add(new ActivityLink(cause));
            }
        }

        return parent == default ? null : GridTelemetry.Source.StartActivity("journal write", ActivityKind.Client, parent, links: links);
    }

    /// <summary>Records one completed write of <paramref name="events"/> events that took <paramref name="elapsed"/>.</summary>
    public void RecordWrite(string entity, int events, TimeSpan elapsed, JournalWriteOutcome outcome = JournalWriteOutcome.Persisted)
    {
        var tags = new TagList { { "actorgrid.entity", entity }, { "actorgrid.outcome", outcome switch
        {
            JournalWriteOutcome.Persisted => "ok",
            JournalWriteOutcome.Rejected => "rejected",
            _ => "failed",
        } } };
        _writes.Add(1, tags);
        if (outcome != JournalWriteOutcome.Persisted)
        {
            return;
        }

        _events.Add(events, tags);
        _eventsPerWrite.Record(events, tags);
        _duration.Record(elapsed.TotalSeconds, tags);
    }
}

/// <summary>A journal write in flight (see <see cref="JournalMetrics.Begin"/>).</summary>
public readonly struct JournalWrite
{
    private readonly JournalMetrics? _metrics;
    private readonly string _entity;
    private readonly int _events;
    private readonly long _started;
    private readonly Activity? _activity;

    internal JournalWrite(JournalMetrics metrics, string entity, int events, long started, Activity? activity) =>
        (_metrics, _entity, _events, _started, _activity) = (metrics, entity, events, started, activity);

    /// <summary>Records the write as done (or refused, or failed) and ends its span.</summary>
    public void Complete(JournalWriteOutcome outcome = JournalWriteOutcome.Persisted)
    {
        _metrics?.RecordWrite(_entity, _events, Stopwatch.GetElapsedTime(_started), outcome);
        if (_activity is not null)
        {
            if (outcome != JournalWriteOutcome.Persisted)
            {
                _activity.SetStatus(ActivityStatusCode.Error, outcome.ToString());
            }

            var current = Activity.Current;
            _activity.Stop();
            Activity.Current = current;
        }
    }
}
