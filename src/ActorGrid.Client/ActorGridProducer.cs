#nullable enable
using System.Threading.Channels;

namespace ActorGrid.Client;

/// <summary>Settings of an <see cref="ActorGridProducer"/>.</summary>
public sealed class ActorGridProducerOptions
{
    /// <summary>The producer id the node deduplicates by; null: a fresh one per producer instance.</summary>
    public string? ProducerId { get; set; }

    /// <summary>How long the first record of a batch waits for more before the batch is sent (Kafka's <c>linger.ms</c>).</summary>
    public TimeSpan Linger { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Most records in one request.</summary>
    public int MaxBatchRecords { get; set; } = 1000;
}

/// <summary>An idempotent, batching producer (<see cref="ActorGridProducer"/>).</summary>
public interface IActorGridProducer : IAsyncDisposable
{
    /// <summary>The producer id its batches carry.</summary>
    string ProducerId { get; }

    /// <summary>Queues <paramref name="record"/> for <paramref name="topic"/>; completes with its position once it is durable.</summary>
    Task<RecordPosition> ProduceAsync(string topic, ProducerRecord record, CancellationToken cancellationToken = default);

    /// <summary>Completes when every record queued so far has been answered.</summary>
    Task FlushAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Produces records in batches under one producer id with increasing sequences, which the node uses to recognise a
/// retried batch: the client's retries (and the failover to another node) never append a record twice. Records of
/// a batch wait at most <see cref="ActorGridProducerOptions.Linger"/>; one batch is in flight at a time, so records
/// keep their order per partition, as with Kafka's idempotent producer.
/// </summary>
public sealed class ActorGridProducer : IActorGridProducer
{
    private readonly IBrokerClient _broker;
    private readonly ActorGridProducerOptions _options;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _sender;
    private long _nextSequence;

    /// <summary>A producer over <paramref name="broker"/> (use the resilient client of <c>AddActorGridClient</c>).</summary>
    public ActorGridProducer(IBrokerClient broker, ActorGridProducerOptions? options = null)
    {
        _broker = broker;
        _options = options ?? new ActorGridProducerOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBatchRecords, 1);
        ProducerId = _options.ProducerId ?? "producer-" + Guid.NewGuid().ToString("N");
        _sender = Task.Run(SendLoopAsync);
    }

    /// <inheritdoc />
    public string ProducerId { get; }

    /// <inheritdoc />
    public Task<RecordPosition> ProduceAsync(string topic, ProducerRecord record, CancellationToken cancellationToken = default)
    {
        var pending = new Pending(topic, record, new TaskCompletionSource<RecordPosition>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(ActorGridProducer));
        }

        return pending.Result.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var marker = new Pending(null, null, new TaskCompletionSource<RecordPosition>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_queue.Writer.TryWrite(marker))
        {
            await marker.Result.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Sends what is queued, then stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _sender;
    }

    private async Task SendLoopAsync()
    {
        var batch = new List<Pending>(_options.MaxBatchRecords);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            if (!_queue.Reader.TryRead(out var first))
            {
                continue;
            }

            batch.Add(first);
            using (var linger = new CancellationTokenSource(_options.Linger))
            {
                try
                {
                    while (batch.Count < _options.MaxBatchRecords)
                    {
                        if (_queue.Reader.TryRead(out var next))
                        {
                            batch.Add(next);
                        }
                        else if (!await _queue.Reader.WaitToReadAsync(linger.Token))
                        {
                            break;
                        }
                    }
                }
                catch (OperationCanceledException) when (linger.IsCancellationRequested)
                {
                    // Lingered long enough: send what there is.
                }
            }

            foreach (var topic in batch.Where(p => p.Topic is not null).GroupBy(p => p.Topic!))
            {
                await SendAsync(topic.Key, [.. topic]);
            }

            foreach (var marker in batch.Where(p => p.Topic is null))
            {
                marker.Result.TrySetResult(default!);
            }
        }
    }

    private async Task SendAsync(string topic, IReadOnlyList<Pending> records)
    {
        // Sequences are taken once per batch and never reused: a batch that finally failed leaves a gap, which the
        // node accepts, and its records are reported failed rather than sent again under new numbers.
        var sequence = _nextSequence;
        _nextSequence += records.Count;
        try
        {
            var positions = await _broker.ProduceAsync(topic, records.Select(r => r.Record!), ProducerId, sequence);
            for (var i = 0; i < records.Count; i++)
            {
                records[i].Result.TrySetResult(positions[i]);
            }
        }
        catch (Exception e)
        {
            foreach (var record in records)
            {
                record.Result.TrySetException(e);
            }
        }
    }

    private sealed record Pending(string? Topic, ProducerRecord? Record, TaskCompletionSource<RecordPosition> Result);
}
