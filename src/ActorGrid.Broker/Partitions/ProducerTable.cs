#nullable enable
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Partitions;

/// <summary>
/// Idempotent-producer state of one partition: for each producer, its most recent batches (sequence range → first
/// offset). A producer's records that land in one partition in one request form one batch and get consecutive
/// offsets, so a retried request is recognised by its batch and answered with the original offsets.
/// Producers idle for <paramref name="expiryMs"/> (by record timestamps, so replay decides the same) or beyond
/// <paramref name="maxProducers"/> are forgotten down to their highest sequence: a retry of an older batch is then
/// refused with a clear error instead of being appended again. Forgotten producers are kept up to
/// <see cref="ForgottenPerProducer"/> × <paramref name="maxProducers"/>.
/// </summary>
internal sealed class ProducerTable(int windowBatches, int maxProducers, long expiryMs = long.MaxValue)
{
    /// <summary>Forgotten producers kept per remembered one.</summary>
    public const int ForgottenPerProducer = 10;

    private readonly Dictionary<string, Producer> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _forgotten = new(StringComparer.Ordinal);
    private readonly Queue<string> _forgottenOrder = new();

    /// <summary>Producers remembered.</summary>
    public int Count => _producers.Count;

    /// <summary>How a batch of sequences relates to what the partition already holds.</summary>
    public abstract record Verdict
    {
        /// <summary>Not seen: append.</summary>
        public sealed record New : Verdict;

        /// <summary>Already appended at these offsets: append nothing.</summary>
        public sealed record Duplicate(long[] Offsets) : Verdict;

        /// <summary>Cannot be deduplicated safely: refuse.</summary>
        public sealed record Conflict(string Detail) : Verdict;
    }

    /// <summary>
    /// Classifies the strictly increasing <paramref name="sequences"/> of <paramref name="producerId"/>, taking into
    /// account <paramref name="pending"/> batches planned but not yet applied.
    /// </summary>
    public Verdict Classify(string producerId, long[] sequences, IReadOnlyList<ProducerBatch>? pending)
    {
        var first = sequences[0];
        var last = sequences[^1];
        _producers.TryGetValue(producerId, out var producer);
        if (producer is null && _forgotten.TryGetValue(producerId, out var forgottenFloor) && first <= forgottenFloor)
        {
            return new Verdict.Conflict(
                $"producer '{producerId}' was forgotten by this partition (idle past the producer expiry, or more than {maxProducers} producers) and sequence {first} is at or below its last appended sequence {forgottenFloor}: it cannot be deduplicated any more, so it is not appended again; continue with higher sequences or a new producerId");
        }

        IEnumerable<ProducerBatch> batches = producer?.Batches ?? [];
        if (pending is not null)
        {
            batches = batches.Concat(pending);
        }

        var overlapping = batches.Where(b => b.FirstSequence <= last && b.LastSequence >= first).ToList();
        var floor = producer?.Floor ?? -1;
        if (overlapping.Count == 0)
        {
            return first > floor
                ? new Verdict.New()
                : new Verdict.Conflict(
                    $"sequence {first} of producer '{producerId}' is at or below {floor}, older than the deduplication window; it was appended before or is out of order");
        }

        if (overlapping.Count == 1 && overlapping[0] is var exact
            && exact.FirstSequence == first && exact.LastSequence == last && exact.Count == sequences.Length)
        {
            return new Verdict.Duplicate([.. Enumerable.Range(0, sequences.Length).Select(i => exact.FirstOffset + i)]);
        }

        // A retry of part of a dense batch (all sequences of the range in this partition) maps one to one.
        var offsets = new long[sequences.Length];
        for (var i = 0; i < sequences.Length; i++)
        {
            var s = sequences[i];
            var batch = overlapping.FirstOrDefault(b => b.FirstSequence <= s && s <= b.LastSequence);
            if (batch is null || batch.Count != batch.LastSequence - batch.FirstSequence + 1)
            {
                return new Verdict.Conflict(
                    $"sequences {first}..{last} of producer '{producerId}' overlap earlier requests with different records; retry the original request unchanged");
            }

            offsets[i] = batch.FirstOffset + (s - batch.FirstSequence);
        }

        return new Verdict.Duplicate(offsets);
    }

    /// <summary>Records that the record at <paramref name="offset"/> carries (producer, sequence).</summary>
    public void Apply(string producerId, long sequence, long batchFirstSequence, long offset, long timestamp = 0)
    {
        if (!_producers.TryGetValue(producerId, out var producer))
        {
            // Expiry and eviction by record timestamps and offsets (not wall time) keep replay deterministic.
            foreach (var expired in _producers.Where(p => p.Value.LastTimestamp < timestamp - expiryMs).Select(p => p.Key).ToList())
            {
                Forget(expired);
            }

            if (_producers.Count >= maxProducers)
            {
                Forget(_producers.MinBy(p => p.Value.LastOffset).Key);
            }

            producer = new Producer { LastOffset = offset, Floor = _forgotten.GetValueOrDefault(producerId, -1) };
            _producers[producerId] = producer;
        }

        var newest = producer.Batches.Count > 0 ? producer.Batches[^1] : null;
        if (newest is not null && newest.FirstSequence == batchFirstSequence && sequence > newest.LastSequence
            && newest.FirstOffset + newest.Count == offset)
        {
            producer.Batches[^1] = newest with { LastSequence = sequence, Count = newest.Count + 1 };
        }
        else
        {
            producer.Batches.Add(new ProducerBatch(sequence, sequence, 1, offset));
            if (producer.Batches.Count > windowBatches)
            {
                producer.Floor = Math.Max(producer.Floor, producer.Batches[0].LastSequence);
                producer.Batches.RemoveAt(0);
            }
        }

        producer.LastOffset = offset;
        producer.LastTimestamp = Math.Max(producer.LastTimestamp, timestamp);
    }

    /// <summary>Forgotten producers with their highest appended sequence, oldest first.</summary>
    public ForgottenProducer[] Forgotten() => [.. _forgottenOrder.Select(id => new ForgottenProducer(id, _forgotten[id]))];

    private void Forget(string producerId)
    {
        var producer = _producers[producerId];
        _producers.Remove(producerId);
        var highest = producer.Batches.Count > 0 ? Math.Max(producer.Floor, producer.Batches.Max(b => b.LastSequence)) : producer.Floor;
        Remember(producerId, highest);
    }

    private void Remember(string producerId, long floor)
    {
        if (!_forgotten.ContainsKey(producerId))
        {
            _forgottenOrder.Enqueue(producerId);
        }

        _forgotten[producerId] = floor;
        while (_forgottenOrder.Count > ForgottenPerProducer * maxProducers)
        {
            _forgotten.Remove(_forgottenOrder.Dequeue());
        }
    }

    /// <summary>The table as snapshot entries.</summary>
    public ProducerSnapshot[] ToSnapshot() =>
        [.. _producers.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new ProducerSnapshot(p.Key, p.Value.Floor, p.Value.LastOffset, [.. p.Value.Batches], p.Value.LastTimestamp))];

    /// <summary>Restores the table from snapshot entries.</summary>
    public void Restore(IEnumerable<ProducerSnapshot> producers, IEnumerable<ForgottenProducer>? forgotten = null)
    {
        _producers.Clear();
        _forgotten.Clear();
        _forgottenOrder.Clear();
        foreach (var p in producers)
        {
            _producers[p.ProducerId] = new Producer { Floor = p.Floor, LastOffset = p.LastOffset, Batches = [.. p.Batches], LastTimestamp = p.LastTimestamp };
        }

        foreach (var f in forgotten ?? [])
        {
            Remember(f.ProducerId, f.Floor);
        }
    }

    private sealed class Producer
    {
        public long Floor { get; set; } = -1;

        public long LastOffset { get; set; }

        public long LastTimestamp { get; set; }

        public List<ProducerBatch> Batches { get; init; } = [];
    }
}
