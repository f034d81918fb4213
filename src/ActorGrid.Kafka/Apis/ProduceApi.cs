#nullable enable
using System.Text;
using ActorGrid.Broker.Gateway;
using ActorGrid.Kafka.Protocol;
using ActorGrid.Security;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Kafka;

internal sealed partial class KafkaApiHandler
{
    /// <summary>The broker producer id for a Kafka producer id and epoch: a new epoch starts new sequences.</summary>
    internal static string BrokerProducerId(long producerId, short epoch) => $"kafka-{producerId}.{epoch}";

    /// <summary>
    /// Produce v3-8 (record batch v2). Each batch goes to its partition as one append; with a producer id
    /// (<c>enable.idempotence</c>), the batch's base sequence and record count are the broker's producer sequences,
    /// so a retry (after a timeout, a node crash, a new leader) is answered with the original offsets and appends
    /// nothing. acks=0 gets no response; acks=1 and acks=all both answer once the records are in the journal.
    /// </summary>
    private async Task<KafkaWriter?> ProduceAsync(short v, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        var transactionalId = body.NullableString(false);
        var acks = body.Int16();
        body.Int32(); // timeout: the gateway's own ask timeout bounds the wait
        var topics = body.Array(false, r => (Name: r.String(false), Partitions: r.Array(false, p => (Index: p.Int32(), Records: p.NullableBytesSlice(false)))));

        // Appends leave in request order even when a topic must be looked up first.
        var previous = session.ProduceSent;
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        session.ProduceSent = sent.Task;
        var results = new List<(string Topic, List<(int Partition, Task<(short Error, long BaseOffset, string? Message)> Result)> Partitions)>();
        try
        {
            await previous;
            foreach (var topic in topics)
            {
                TopicConfig? config = null;
                var topicError = session.Deny(GridAccess.Write, GridResource.Topic, topic.Name);
                try
                {
                    if (topicError == KafkaError.None)
                    {
                        config = await gateway.FindTopicAsync(topic.Name, cancellationToken);
                        topicError = config is null ? KafkaError.UnknownTopicOrPartition : KafkaError.None;
                    }
                }
                catch (Exception e)
                {
                    topicError = ErrorCode(e);
                }

                var partitions = new List<(int, Task<(short, long, string?)>)>();
                foreach (var (index, records) in topic.Partitions)
                {
                    partitions.Add((index, topicError != KafkaError.None || config is null
                        ? Task.FromResult((topicError, -1L, (string?)null))
                        : transactionalId is not null
                            ? Task.FromResult((KafkaError.InvalidRequest, -1L, (string?)"transactions are not supported"))
                            : AppendAsync(config, index, records, cancellationToken)));
                }

                results.Add((topic.Name, partitions));
            }
        }
        finally
        {
            sent.TrySetResult();
        }

        await Task.WhenAll(results.SelectMany(t => t.Partitions.Select(p => p.Result)));
        if (acks == 0)
        {
            return null;
        }

        var w = new KafkaWriter();
        w.Array(results, false, (w, t) =>
        {
            w.String(t.Topic, false);
            w.Array(t.Partitions, false, (w, p) =>
            {
                var (error, baseOffset, message) = p.Result.Result;
                w.Int32(p.Partition).Int16(error).Int64(baseOffset).Int64(-1);
                if (v >= 5)
                {
                    w.Int64(-1);
                }

                if (v >= 8)
                {
                    w.ArrayLength(0, false).String(message, false);
                }
            });
        });
        return w.Int32(0);
    }

    /// <summary>
    /// Decodes the partition's batches and sends one append per batch, in order, then awaits them. The decoding is
    /// not in an async method: the decoded records are garbage once their commands are built, instead of living in a
    /// state machine until the appends are durable.
    /// </summary>
    private Task<(short Error, long BaseOffset, string? Message)> AppendAsync(TopicConfig config, int partition, ReadOnlyMemory<byte>? records, CancellationToken cancellationToken)
    {
        List<RecordBatch> batches;
        try
        {
            batches = RecordBatch.ReadAll(records ?? default);
        }
        catch (KafkaProtocolException e)
        {
            return Task.FromResult((KafkaError.CorruptMessage, -1L, (string?)e.Message));
        }

        if (batches.Count == 0 || partition < 0 || partition >= config.Partitions)
        {
            return Task.FromResult((batches.Count == 0 ? KafkaError.CorruptMessage : KafkaError.UnknownTopicOrPartition, -1L, (string?)null));
        }

        if (batches.Exists(b => b.IsTransactional || b.IsControl))
        {
            return Task.FromResult((KafkaError.InvalidRequest, -1L, (string?)"transactional and control batches are not supported"));
        }

        var appends = new Task<AppendResult>[batches.Count];
        for (var i = 0; i < batches.Count; i++)
        {
            var batch = batches[i];
            var produce = new ProduceRecord[batch.Records.Count];
            for (var r = 0; r < produce.Length; r++)
            {
                produce[r] = ToProduceRecord(batch.Records[r]);
            }

            var producerId = batch.ProducerId >= 0 ? BrokerProducerId(batch.ProducerId, batch.ProducerEpoch) : null;
            appends[i] = gateway.AppendAsync(config, partition, producerId, Math.Max(0, batch.BaseSequence), produce, cancellationToken);
        }

        return AwaitAppendsAsync(appends);
    }

    private async Task<(short Error, long BaseOffset, string? Message)> AwaitAppendsAsync(Task<AppendResult>[] appends)
    {
        try
        {
            var results = await Task.WhenAll(appends);
            return (KafkaError.None, results[0].Offsets.Length > 0 ? results[0].Offsets[0] : -1, null);
        }
        catch (Exception e)
        {
            LogUnexpected(e, "Produce");
            return (ErrorCode(e), -1, e.Message);
        }
    }

    private static ProduceRecord ToProduceRecord(KafkaRecord record) =>
        new(record.Key is { Length: > 0 } key ? Encoding.UTF8.GetString(key) : null, record.Value ?? []);
}
