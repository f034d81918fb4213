#nullable enable
namespace ActorGrid.TestKit.Histories;

/// <summary>A record the broker acknowledged to a producer (its payload should be unique within a spec).</summary>
public sealed record ProducedRecord(string Topic, int Partition, long Offset, string Value, string? ProducerId = null, long? Sequence = null);

/// <summary>A record read back from a partition.</summary>
public sealed record ConsumedRecord(string Topic, int Partition, long Offset, string Value);

/// <summary>
/// Checks a broker history (SPEC §7): no acknowledged record lost, none duplicated (payloads are unique, so a
/// payload at two offsets is a duplicate), per-partition order kept for each producer, offsets dense from the start.
/// </summary>
public static class BrokerHistoryChecker
{
    /// <summary>Checks <paramref name="consumed"/> (a full read of the partitions) against what was acknowledged.</summary>
    public static CheckResult Check(IReadOnlyCollection<ProducedRecord> acknowledged, IReadOnlyCollection<ConsumedRecord> consumed)
    {
        var violations = new List<string>();
        var byPosition = new Dictionary<(string, int, long), ConsumedRecord>();
        foreach (var record in consumed)
        {
            if (!byPosition.TryAdd((record.Topic, record.Partition, record.Offset), record))
            {
                violations.Add($"offset {record.Topic}/{record.Partition}/{record.Offset} was read twice with different content");
            }
        }

        var byValue = consumed.Select(r => (r.Topic, r.Partition, r.Value)).ToHashSet();
        foreach (var record in acknowledged)
        {
            if (record.Offset < 0)
            {
                // Acknowledged without an offset (librdkafka's success for a retried batch the broker already holds,
                // DUPLICATE_SEQUENCE_NUMBER): it must still be somewhere in its partition.
                if (!byValue.Contains((record.Topic, record.Partition, record.Value)))
                {
                    violations.Add($"lost: '{record.Value}' acknowledged without an offset is not in {record.Topic}/{record.Partition}");
                }
            }
            else if (!byPosition.TryGetValue((record.Topic, record.Partition, record.Offset), out var read))
            {
                violations.Add($"lost: '{record.Value}' acknowledged at {record.Topic}/{record.Partition}/{record.Offset} is not in the log");
            }
            else if (read.Value != record.Value)
            {
                violations.Add($"lost: '{record.Value}' acknowledged at {record.Topic}/{record.Partition}/{record.Offset}, which holds '{read.Value}'");
            }
        }

        foreach (var duplicate in consumed.GroupBy(r => r.Value).Where(g => g.Count() > 1))
        {
            violations.Add($"duplicated: '{duplicate.Key}' at offsets {string.Join(", ", duplicate.Select(r => $"{r.Topic}/{r.Partition}/{r.Offset}"))}");
        }

        var offsets = consumed.GroupBy(r => r.Value, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.MinBy(r => r.Offset)!, StringComparer.Ordinal);
        foreach (var producer in acknowledged.Where(r => r.ProducerId is not null && r.Sequence is not null)
                     .GroupBy(r => (r.ProducerId, r.Topic, r.Partition)))
        {
            ConsumedRecord? previous = null;
            long previousSequence = -1;
            foreach (var record in producer.OrderBy(r => r.Sequence))
            {
                if (!offsets.TryGetValue(record.Value, out var read))
                {
                    continue;
                }

                if (previous is not null && read.Offset <= previous.Offset)
                {
                    violations.Add($"reordered: producer {producer.Key.ProducerId} sequence {record.Sequence} is at offset {read.Offset}, before sequence {previousSequence} at {previous.Offset}");
                }

                previous = read;
                previousSequence = record.Sequence!.Value;
            }
        }

        foreach (var partition in consumed.GroupBy(r => (r.Topic, r.Partition)))
        {
            var sorted = partition.Select(r => r.Offset).Distinct().Order().ToList();
            for (var i = 1; i < sorted.Count; i++)
            {
                if (sorted[i] != sorted[i - 1] + 1)
                {
                    violations.Add($"gap: {partition.Key.Topic}/{partition.Key.Partition} jumps from offset {sorted[i - 1]} to {sorted[i]}");
                }
            }
        }

        return new CheckResult("broker log", acknowledged.Count, violations);
    }
}
