#nullable enable
using System.Text;
using ActorGrid.Kafka.Protocol;
using ActorGrid.Security;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Kafka;

internal sealed partial class KafkaApiHandler
{
    /// <summary>Pages of a partition read at once beyond the first when a fetch's byte budget holds more (<c>BrokerGateway.FetchBytesAsync</c>).</summary>
    private const int PagesAhead = 8;

    private sealed record FetchPartition(int Partition, long Offset, int MaxBytes);

    private sealed record FetchedPartition(string Topic, int Partition, short Error, FetchResult? Page)
    {
        public int Bytes => Page?.Records.Sum(r => r.Value.Length + (r.Key?.Length ?? 0) + 16) ?? 0;
    }

    /// <summary>
    /// Fetch v4-11, without fetch sessions (every request is a full fetch; session id 0). Reads every partition at
    /// once, each up to its partition max bytes (several journal pages in parallel); when together they hold less
    /// than min.bytes, waits (up to max.wait.ms) for the first partition that gets records. Records go back as one
    /// uncompressed batch per partition. A partition whose answer leaves it behind its end has its next page read
    /// ahead on the connection (<see cref="KafkaSession.ReadAhead"/>), for the consumer's next fetch.
    /// </summary>
    private async Task<KafkaWriter> FetchAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        body.Int32(); // replica id
        var maxWait = Math.Max(0, body.Int32());
        var minBytes = body.Int32();
        var maxBytes = body.Int32();
        body.Int8(); // isolation level: every record is committed
        if (v >= 7)
        {
            body.Int32(); // session id
            body.Int32(); // session epoch
        }

        var topics = body.Array(false, r => (Name: r.String(false), Partitions: r.Array(false, p =>
        {
            var partition = p.Int32();
            if (v >= 9)
            {
                p.Int32(); // current leader epoch
            }

            var offset = p.Int64();
            if (v >= 5)
            {
                p.Int64(); // log start offset (followers only)
            }

            return new FetchPartition(partition, offset, p.Int32());
        })));

        var requests = topics.SelectMany(t => t.Partitions.Select(p => (t.Name, Request: p))).ToList();
        var fetched = await Task.WhenAll(requests.Select(r => session.Deny(GridAccess.Read, GridResource.Topic, r.Name) is var denied and not KafkaError.None
            ? Task.FromResult(new FetchedPartition(r.Name, r.Request.Partition, denied, null))
            : FetchPartitionAsync(session, r.Name, r.Request, 0, cancellationToken)));
        if (maxWait > 0 && fetched.Sum(f => f.Bytes) < Math.Max(1, minBytes) && fetched.All(f => f.Error == KafkaError.None))
        {
            // Long poll: every partition waits at its end; the first to get records answers (the others are dropped,
            // a fetch moves no position on the broker).
            using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var waiting = requests.Select((r, i) => FetchPartitionAsync(session, r.Name, r.Request with { Offset = fetched[i].Page!.NextOffset }, maxWait, done.Token)).ToList();
            var pending = waiting.ToList();
            while (pending.Count > 0)
            {
                var first = await Task.WhenAny(pending);
                pending.Remove(first);
                if ((await first).Bytes > 0)
                {
                    break;
                }
            }

            for (var i = 0; i < waiting.Count; i++)
            {
                if (waiting[i].IsCompletedSuccessfully && waiting[i].Result.Bytes > 0)
                {
                    fetched[i] = waiting[i].Result;
                }
            }

            done.Cancel();
        }

        var w = new KafkaWriter(4096);
        w.Int32(0);
        if (v >= 7)
        {
            w.Int16(KafkaError.None).Int32(0);
        }

        var budget = maxBytes <= 0 ? int.MaxValue : maxBytes;
        var byTopic = fetched.GroupBy(f => f.Topic, StringComparer.Ordinal).ToList();
        w.Array(byTopic, false, (w, topic) =>
        {
            w.String(topic.Key, false);
            w.Array(topic.ToList(), false, (w, f) =>
            {
                w.Int32(f.Partition).Int16(f.Error)
                    .Int64(f.Page?.EndOffset ?? -1)
                    .Int64(f.Page?.EndOffset ?? -1);
                if (v >= 5)
                {
                    w.Int64(f.Page?.StartOffset ?? -1);
                }

                w.ArrayLength(-1, false); // aborted transactions: none
                if (v >= 11)
                {
                    w.Int32(-1);
                }

                if (f.Page is not { Records.Length: > 0 } page || budget <= 0)
                {
                    w.Int32(0);
                    return;
                }

                // At least one batch always goes back (Kafka's rule), even when it exceeds the budget.
                var lengthAt = w.ReserveInt32();
                var start = w.Length;
                RecordBatch.Write(w, page.Records, key => key is null ? null : Encoding.UTF8.GetBytes(key));
                w.PatchInt32(lengthAt, w.Length - start);
                budget -= w.Length - start;
            });
        });
        return w;
    }

    private async Task<FetchedPartition> FetchPartitionAsync(KafkaSession session, string topic, FetchPartition request, int waitMs, CancellationToken cancellationToken)
    {
        try
        {
            var config = await gateway.FindTopicAsync(topic, cancellationToken);
            if (config is null || request.Partition < 0 || request.Partition >= config.Partitions)
            {
                return new FetchedPartition(topic, request.Partition, KafkaError.UnknownTopicOrPartition, null);
            }

            var page = waitMs == 0 && session.TakeReadAhead(topic, request.Partition, request.Offset) is { } ahead
                ? await ahead
                : await gateway.FetchBytesAsync(config, request.Partition, request.Offset, Math.Max(1, request.MaxBytes), waitMs, PagesAhead, cancellationToken);
            if (page.Records.Length > 0 && page.NextOffset < page.EndOffset)
            {
                // The consumer is behind: read its next page now, while it takes this one (a fetch moves nothing).
                session.ReadAhead(topic, request.Partition, page.NextOffset,
                    gateway.FetchBytesAsync(config, request.Partition, page.NextOffset, Math.Max(1, request.MaxBytes), 0, PagesAhead, cancellationToken));
            }

            return new FetchedPartition(topic, request.Partition, KafkaError.None, page);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return new FetchedPartition(topic, request.Partition, KafkaError.None, null);
        }
        catch (Exception e)
        {
            LogUnexpected(e, "Fetch");
            return new FetchedPartition(topic, request.Partition, ErrorCode(e), null);
        }
    }

    /// <summary>ListOffsets v1-5: -2 earliest (the partition's start), -1 latest (its end), otherwise the first record at or after the timestamp.</summary>
    private async Task<KafkaWriter> ListOffsetsAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        body.Int32(); // replica id
        if (v >= 2)
        {
            body.Int8(); // isolation level
        }

        var topics = body.Array(false, r => (Name: r.String(false), Partitions: r.Array(false, p =>
        {
            var partition = p.Int32();
            if (v >= 4)
            {
                p.Int32();
            }

            return (Partition: partition, Timestamp: p.Int64());
        })));
        var answers = await Task.WhenAll(topics.Select(async t => (t.Name, Partitions: await Task.WhenAll(t.Partitions.Select(p => ListOffsetAsync(session, t.Name, p.Partition, p.Timestamp, cancellationToken))))));
        var w = new KafkaWriter();
        if (v >= 2)
        {
            w.Int32(0);
        }

        w.Array(answers, false, (w, t) =>
        {
            w.String(t.Name, false);
            w.Array(t.Partitions, false, (w, p) =>
            {
                w.Int32(p.Partition).Int16(p.Error).Int64(p.Timestamp).Int64(p.Offset);
                if (v >= 4)
                {
                    w.Int32(0);
                }
            });
        });
        return w;
    }

    private async Task<(int Partition, short Error, long Timestamp, long Offset)> ListOffsetAsync(KafkaSession session, string topic, int partition, long timestamp, CancellationToken cancellationToken)
    {
        if (session.Deny(GridAccess.Read, GridResource.Topic, topic) is var denied and not KafkaError.None)
        {
            return (partition, denied, -1, -1);
        }

        try
        {
            var config = await gateway.FindTopicAsync(topic, cancellationToken);
            if (config is null || partition < 0 || partition >= config.Partitions)
            {
                return (partition, KafkaError.UnknownTopicOrPartition, -1, -1);
            }

            switch (timestamp)
            {
                case -1 or -2:
                    var info = await gateway.GetPartitionInfoAsync(topic, partition, cancellationToken);
                    return (partition, KafkaError.None, -1, timestamp == -1 ? info.EndOffset : info.StartOffset);
                case < 0:
                    return (partition, KafkaError.UnsupportedVersion, -1, -1);
                default:
                    var found = await gateway.OffsetForTimestampAsync(config, partition, timestamp, cancellationToken);
                    return found is { } hit ? (partition, KafkaError.None, hit.Timestamp, hit.Offset) : (partition, KafkaError.None, -1, -1);
            }
        }
        catch (Exception e)
        {
            LogUnexpected(e, "ListOffsets");
            return (partition, ErrorCode(e), -1, -1);
        }
    }
}
