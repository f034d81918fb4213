#nullable enable
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ActorGrid.Broker.Gateway;
using ActorGrid.Broker.Topics;
using ActorGrid.Security;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Resp;

/// <summary>
/// Redis streams over broker topics. A stream is a one-partition topic of the same name; the entry at offset
/// <c>n</c> has id <c>n+1-0</c> (ids increase with offsets; <c>0-0</c> is before every entry). An entry's fields are
/// stored as the record's value, a JSON object (<c>{"field":"value",…}</c>), so HTTP consumers read them too; a
/// record produced over HTTP reads back as one field, <c>value</c> (and <c>key</c> when it has one). A consumer
/// group is the broker's consumer group of that name; each Redis consumer is a member, joined on its first
/// XREADGROUP from this node.
/// </summary>
internal sealed class RespStreams(BrokerGateway broker)
{
    private readonly ConcurrentDictionary<(string Group, string Consumer, string Streams), string> _members = new();
    private readonly ConcurrentDictionary<string, string> _consumerOf = new(StringComparer.Ordinal);

    public BrokerGateway Broker => broker;

    /// <summary>The stream id of offset <paramref name="offset"/>.</summary>
    public static string IdOf(long offset) => (offset + 1).ToString(CultureInfo.InvariantCulture) + "-0";

    /// <summary>Parses <c>ms-seq</c> (or <c>ms</c>, seq 0 or, with <paramref name="endOfMs"/>, the largest).</summary>
    public static bool TryParseId(string text, bool endOfMs, out ulong ms, out ulong seq)
    {
        seq = endOfMs ? ulong.MaxValue : 0;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var msText = dash < 0 ? text : text[..dash];
        if (!ulong.TryParse(msText, NumberStyles.None, CultureInfo.InvariantCulture, out ms))
        {
            return false;
        }

        return dash < 0 || ulong.TryParse(text[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out seq);
    }

    /// <summary>The first offset whose id is at least (<paramref name="ms"/>, <paramref name="seq"/>).</summary>
    public static long FirstOffsetFrom(ulong ms, ulong seq)
    {
        var offset = seq == 0 ? (ms == 0 ? 0 : ms - 1) : ms;
        return (long)Math.Min(offset, long.MaxValue / 2);
    }

    /// <summary>The first offset whose id is greater than (<paramref name="ms"/>, <paramref name="seq"/>).</summary>
    public static long FirstOffsetAfter(ulong ms, ulong seq) => (long)Math.Min(ms, long.MaxValue / 2);

    /// <summary>The last offset whose id is at most (<paramref name="ms"/>, <paramref name="seq"/>), -1 when none.</summary>
    public static long LastOffsetUpTo(ulong ms, ulong seq) => (long)Math.Min(ms, long.MaxValue / 2) - 1;

    /// <summary>The fields of an entry as stored in a record's value.</summary>
    public static byte[] Encode(RespRequest request, int firstField)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            for (var i = firstField; i + 1 < request.Count; i += 2)
            {
                json.WriteString(request.Text(i) ?? throw new RespCommandException("ERR ActorGrid stream fields must be UTF-8 text"),
                    request.Text(i + 1) ?? throw new RespCommandException("ERR ActorGrid stream values must be UTF-8 text"));
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>A stored record as a stream entry: <c>[id, [field, value, …]]</c>.</summary>
    public static RespValue Entry(StoredRecord record)
    {
        var fields = new List<RespValue>();
        if (TryDecode(record.Value, fields))
        {
            return RespValue.Array(RespValue.Bulk(IdOf(record.Offset)), RespValue.Array([.. fields]));
        }

        fields.Clear();
        if (record.Key is not null)
        {
            fields.Add(RespValue.Bulk("key"));
            fields.Add(RespValue.Bulk(record.Key));
        }

        fields.Add(RespValue.Bulk("value"));
        fields.Add(RespValue.Bulk(record.Value));
        return RespValue.Array(RespValue.Bulk(IdOf(record.Offset)), RespValue.Array([.. fields]));
    }

    /// <summary>The stream's topic, or null when there is none; a topic of several partitions is not a stream.</summary>
    public async Task<TopicConfig?> FindAsync(string stream)
    {
        RequireName(stream);
        var config = await broker.FindTopicAsync(stream, CancellationToken.None);
        if (config is { Partitions: not 1 })
        {
            throw new RespCommandException($"WRONGTYPE Operation against a key holding the wrong kind of value (topic '{stream}' has {config.Partitions} partitions; a stream is a one-partition topic)");
        }

        return config;
    }

    /// <summary>The stream's topic, created (one partition, <paramref name="maxLength"/> as retention) when absent.</summary>
    public async Task<TopicConfig> GetOrCreateAsync(string stream, long? maxLength, GridPrincipal caller)
    {
        var config = await FindAsync(stream);
        if (config is null)
        {
            // Creating a topic changes the shape of the grid: it takes an admin scope (SPEC §11).
            if (GridAuthorization.Authorize(caller, GridAccess.Admin, GridResource.Topic, stream) is { } denied)
            {
                throw new RespCommandException("NOPERM " + denied);
            }

            config = (await broker.CreateTopicAsync(new TopicConfig(stream, 1, maxLength, null), CancellationToken.None)).Config;
        }

        if (config.Partitions != 1)
        {
            throw new RespCommandException($"WRONGTYPE Operation against a key holding the wrong kind of value (topic '{stream}' has {config.Partitions} partitions)");
        }

        RequireRetention(config, maxLength);
        return config;
    }

    /// <summary>Refuses a MAXLEN that differs from the retention the stream was created with.</summary>
    public static void RequireRetention(TopicConfig config, long? maxLength)
    {
        if (maxLength is { } max && config.RetentionMessages != max)
        {
            throw new RespCommandException(
                $"ERR stream '{config.Name}' keeps {(config.RetentionMessages is { } r ? $"the last {r} entries" : "every entry")}: in ActorGrid MAXLEN is the retention fixed when the stream is created (first XADD)");
        }
    }

    public async Task<bool> ExistsAsync(string key) => BrokerNames.IsValid(key) && await broker.FindTopicAsync(key, CancellationToken.None) is { Partitions: 1 };

    /// <summary>The member id of <paramref name="consumer"/> in <paramref name="group"/>, joining (subscribed to <paramref name="streams"/>) when it has none.</summary>
    public async Task<string> MemberAsync(string group, string consumer, IReadOnlyList<string> streams, GridPrincipal caller, bool rejoin)
    {
        var key = (group, consumer, string.Join(' ', streams.Order(StringComparer.Ordinal)));
        if (!rejoin && _members.TryGetValue(key, out var known))
        {
            return known;
        }

        var joined = await broker.JoinAsync(group, streams, (int)Math.Min(60_000, broker.Settings.MaxSessionTimeout.TotalMilliseconds), null, caller, CancellationToken.None);
        _members[key] = joined.MemberId;
        _consumerOf[joined.MemberId] = consumer;
        return joined.MemberId;
    }

    /// <summary>
    /// The group with its offsets, or null when it does not exist for <paramref name="stream"/> (a Redis group
    /// belongs to one stream; a broker group may span topics, so it exists for a stream once it has an offset or
    /// a member there).
    /// </summary>
    public async Task<GroupView?> FindGroupAsync(string group, string stream)
    {
        try
        {
            var view = await broker.DescribeGroupAsync(group, CancellationToken.None);
            var here = view.Description.Committed.Any(c => c.Topic == stream) || view.Description.Topics.Any(t => t.Topic == stream);
            return here ? view : null;
        }
        catch (BrokerRequestException e) when (e.Code == BrokerErrorCode.GroupNotFound)
        {
            return null;
        }
    }

    /// <summary>The consumer name of a member joined from this node (else the member id).</summary>
    public string ConsumerOf(string memberId) => _consumerOf.GetValueOrDefault(memberId, memberId);

    /// <summary>
    /// Commits <paramref name="offset"/> (next to read) for the stream in the group: as the member that owns the
    /// stream's partition, or, when nobody does, as a member that joins only for this.
    /// </summary>
    public async Task CommitAsync(string group, string stream, long offset, GridPrincipal caller)
    {
        var view = await FindGroupAsync(group, stream);
        var owner = view?.Description.Members.FirstOrDefault(m => m.Assignments.Any(a => a.Topic == stream && a.Partition == 0));
        var commit = new[] { new PartitionOffset(stream, 0, offset) };
        if (owner is not null)
        {
            await broker.CommitAsync(group, owner.MemberId, caller, null, commit, CancellationToken.None);
            return;
        }

        var temporary = await broker.JoinAsync(group, [stream], (int)broker.Settings.MinSessionTimeout.TotalMilliseconds, null, caller, CancellationToken.None);
        try
        {
            await broker.CommitAsync(group, temporary.MemberId, caller, null, commit, CancellationToken.None);
        }
        finally
        {
            await broker.LeaveAsync(group, temporary.MemberId, caller, CancellationToken.None);
        }
    }

    public static void RequireName(string stream)
    {
        if (!BrokerNames.IsValid(stream))
        {
            throw new RespCommandException($"ERR stream name '{stream}' is not a topic name: ActorGrid streams are topics, named with 1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'");
        }
    }

    private static bool TryDecode(byte[] value, List<RespValue> fields)
    {
        if (value.Length < 2 || value[0] != (byte)'{')
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(value);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                if (!reader.Read() || reader.TokenType != JsonTokenType.String)
                {
                    return false;
                }

                fields.Add(RespValue.Bulk(name));
                fields.Add(RespValue.Bulk(Encoding.UTF8.GetBytes(reader.GetString()!)));
            }

            return reader.TokenType == JsonTokenType.EndObject && !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
