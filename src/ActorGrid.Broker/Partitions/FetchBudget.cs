#nullable enable
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Partitions;

/// <summary>
/// What one fetch reply may still carry: about <paramref name="valueBytes"/> of values (the caller's <c>maxBytes</c>)
/// and at most <paramref name="replyBytes"/> serialized (<see cref="StoredRecord.WireSize"/>: the reply may cross the
/// network, where a message larger than the remoting frame is dropped). The first record always comes back, however
/// large its value (Kafka's rule, so a consumer always makes progress), unless it alone is larger than
/// <paramref name="replyBytes"/>: then nothing does, and <see cref="Refusal"/> says why.
/// </summary>
internal sealed class FetchBudget(long valueBytes, long replyBytes)
{
    private long _values;
    private long _wire;

    /// <summary>Records admitted so far.</summary>
    public int Count { get; private set; }

    /// <summary>Why the first record offered was refused, or null.</summary>
    public BrokerError? Refusal { get; private set; }

    /// <summary>Admits <paramref name="record"/> when it fits what is left (the first record when it fits one reply).</summary>
    public bool TryAdd(StoredRecord record)
    {
        var wire = record.WireSize();
        if (Count == 0 && wire > replyBytes)
        {
            Refusal = new BrokerError(BrokerErrorCode.TooLarge,
                $"the record at offset {record.Offset} is {wire} bytes serialized, more than one reply between nodes may carry ({replyBytes} bytes, "
                + "from the remoting frame); it was stored under a larger Broker:MaxMessageBytes: raise it again to read the record");
            return false;
        }

        if (Count > 0 && (_values + record.Value.Length > valueBytes || _wire + wire > replyBytes))
        {
            return false;
        }

        _values += record.Value.Length;
        _wire += wire;
        Count++;
        return true;
    }
}
