#nullable enable
using ActorGrid.Broker.Gateway;
using ActorGrid.Security;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Resp;

/// <summary>Redis stream commands over the broker (see <see cref="RespStreams"/> for the mapping).</summary>
internal static class StreamCommands
{
    public static void Register(List<RespCommand> commands)
    {
        Add(commands, "XADD", -5, CommandClass.Other, XAddAsync);
        Add(commands, "XLEN", 2, CommandClass.Other, XLenAsync);
        Add(commands, "XRANGE", -4, CommandClass.Other, (s, r) => XRangeAsync(s, r, reverse: false));
        Add(commands, "XREVRANGE", -4, CommandClass.Other, (s, r) => XRangeAsync(s, r, reverse: true));
        Add(commands, "XTRIM", -4, CommandClass.Other, XTrimAsync);
        Add(commands, "XREAD", -4, CommandClass.Other, XReadAsync, 0, CommandFlags.Blocking);
        Add(commands, "XGROUP", -2, CommandClass.Other, XGroupAsync, 2);
        Add(commands, "XREADGROUP", -7, CommandClass.Other, XReadGroupAsync, 0, CommandFlags.Blocking);
        Add(commands, "XACK", -4, CommandClass.Other, XAckAsync);
        Add(commands, "XPENDING", -3, CommandClass.Other, XPendingAsync);
    }

    private static void Add(List<RespCommand> commands, string name, int arity, CommandClass cls, RespHandler handler, int firstKey = 1, CommandFlags flags = CommandFlags.None) =>
        commands.Add(new RespCommand(name, arity, cls, flags, firstKey, firstKey, firstKey == 0 ? 0 : 1, handler, Resource: GridResource.Topic));

    private static string Text(RespRequest request, int index) =>
        request.Text(index) ?? throw new RespCommandException("ERR ActorGrid stream names, groups and ids must be UTF-8 text");

    private static async ValueTask<RespValue> XAddAsync(RespSession session, RespRequest request)
    {
        var stream = Text(request, 1);
        RespStreams.RequireName(stream);
        var i = 2;
        var create = true;
        long? maxLength = null;
        while (i < request.Count)
        {
            if (request.Is(i, "NOMKSTREAM"u8))
            {
                create = false;
                i++;
            }
            else if (request.Is(i, "MAXLEN"u8))
            {
                i = ParseMaxLength(request, i, out maxLength);
            }
            else if (request.Is(i, "MINID"u8))
            {
                return RespValue.Error("ERR MINID is not supported by ActorGrid: a stream's retention is a number of entries (MAXLEN)");
            }
            else
            {
                break;
            }
        }

        if (i >= request.Count || !request.Is(i, "*"u8))
        {
            return RespValue.Error("ERR ActorGrid assigns stream ids: use '*' (the entry at offset n gets id n+1-0)");
        }

        var fields = request.Count - i - 1;
        if (fields == 0 || fields % 2 != 0)
        {
            return RespValue.Error("ERR wrong number of arguments for 'xadd' command");
        }

        var value = RespStreams.Encode(request, i + 1);
        var streams = session.Door.Streams;
        var config = create ? await streams.GetOrCreateAsync(stream, maxLength, session.Caller) : await streams.FindAsync(stream);
        if (config is null)
        {
            return RespValue.Null;
        }

        RespStreams.RequireRetention(config, maxLength);
        var produced = await session.Broker.ProduceAsync(stream, null, null, [new ProduceRecord(null, value)], CancellationToken.None);
        return RespValue.Bulk(RespStreams.IdOf(produced[0].Offset));
    }

    private static int ParseMaxLength(RespRequest request, int i, out long? maxLength)
    {
        i++;
        if (i < request.Count && (request.Is(i, "="u8) || request.Is(i, "~"u8)))
        {
            i++;
        }

        if (i >= request.Count || !request.TryLong(i, out var max) || max < 1)
        {
            throw new RespCommandException("ERR ActorGrid streams need MAXLEN of at least 1");
        }

        i++;
        if (i + 1 < request.Count && request.Is(i, "LIMIT"u8))
        {
            i += 2;
        }

        maxLength = max;
        return i;
    }

    private static async ValueTask<RespValue> XLenAsync(RespSession session, RespRequest request)
    {
        var stream = Text(request, 1);
        if (await session.Door.Streams.FindAsync(stream) is null)
        {
            return RespValue.Zero;
        }

        var info = await session.Broker.GetPartitionInfoAsync(stream, 0, CancellationToken.None);
        return RespValue.Integer(info.EndOffset - info.StartOffset);
    }

    private static async ValueTask<RespValue> XTrimAsync(RespSession session, RespRequest request)
    {
        var stream = Text(request, 1);
        if (!request.Is(2, "MAXLEN"u8))
        {
            return RespValue.Error("ERR ActorGrid trims streams by MAXLEN only");
        }

        ParseMaxLength(request, 2, out var maxLength);
        if (await session.Door.Streams.FindAsync(stream) is not { } config)
        {
            return RespValue.Zero;
        }

        // Retention already keeps the stream at this length (it trims in the background): nothing to delete now.
        RespStreams.RequireRetention(config, maxLength);
        return RespValue.Zero;
    }

    private static async ValueTask<RespValue> XRangeAsync(RespSession session, RespRequest request, bool reverse)
    {
        var stream = Text(request, 1);
        var (low, high) = reverse ? (Text(request, 3), Text(request, 2)) : (Text(request, 2), Text(request, 3));
        long count = long.MaxValue;
        if (request.Count == 6 && request.Is(4, "COUNT"u8))
        {
            if (!request.TryLong(5, out count))
            {
                return RespValue.Error("ERR value is not an integer or out of range");
            }
        }
        else if (request.Count != 4)
        {
            return RespValue.Error("ERR syntax error");
        }

        if (!TryLow(low, out var from) || !TryHigh(high, out var to))
        {
            return RespValue.Error("ERR Invalid stream ID specified as stream command argument");
        }

        if (count <= 0 || await session.Door.Streams.FindAsync(stream) is null)
        {
            return RespValue.EmptyArray;
        }

        var info = await session.Broker.GetPartitionInfoAsync(stream, 0, CancellationToken.None);
        from = Math.Max(from, info.StartOffset);
        to = Math.Min(to, info.EndOffset - 1);
        if (from > to)
        {
            return RespValue.EmptyArray;
        }

        if (reverse && to - from + 1 > count)
        {
            from = to - count + 1;
        }

        var records = await ReadRangeAsync(session.Broker, stream, from, to, count);
        if (reverse)
        {
            records.Reverse();
        }

        return RespValue.Array([.. records.Select(RespStreams.Entry)]);
    }

    private static async Task<List<StoredRecord>> ReadRangeAsync(BrokerGateway broker, string stream, long from, long to, long count)
    {
        var records = new List<StoredRecord>();
        var offset = from;
        while (offset <= to && records.Count < count)
        {
            var max = (int)Math.Min(Math.Min(count - records.Count, to - offset + 1), broker.Settings.MaxFetchRecords);
            var page = await broker.FetchAsync(stream, 0, offset, max, 0, CancellationToken.None);
            if (page.Records.Length == 0)
            {
                break;
            }

            records.AddRange(page.Records.Where(r => r.Offset <= to));
            offset = page.NextOffset;
        }

        return records;
    }

    private static bool TryLow(string id, out long offset)
    {
        offset = 0;
        if (id == "-")
        {
            return true;
        }

        var exclusive = id.StartsWith('(');
        if (!RespStreams.TryParseId(exclusive ? id[1..] : id, endOfMs: false, out var ms, out var seq))
        {
            return false;
        }

        offset = exclusive ? RespStreams.FirstOffsetAfter(ms, seq) : RespStreams.FirstOffsetFrom(ms, seq);
        return true;
    }

    private static bool TryHigh(string id, out long offset)
    {
        offset = long.MaxValue / 2;
        if (id == "+")
        {
            return true;
        }

        var exclusive = id.StartsWith('(');
        if (!RespStreams.TryParseId(exclusive ? id[1..] : id, endOfMs: !exclusive, out var ms, out var seq))
        {
            return false;
        }

        // Exclusive: strictly below (ms, seq), i.e. up to the entry before the first at or after it.
        offset = exclusive ? RespStreams.FirstOffsetFrom(ms, seq) - 1 : RespStreams.LastOffsetUpTo(ms, seq);
        return true;
    }

    // ---- XREAD

    private static async ValueTask<RespValue> XReadAsync(RespSession session, RespRequest request)
    {
        var (count, block, _, streamsAt) = ParseReadOptions(request, 1, allowNoAck: false);
        var (streams, ids) = Streams(request, streamsAt);
        var offsets = new long[streams.Length];
        for (var s = 0; s < streams.Length; s++)
        {
            offsets[s] = await StartOffsetAsync(session, streams[s], ids[s]);
        }

        var deadline = block is { } ms && ms > 0 ? Environment.TickCount64 + ms : (long?)null;
        while (true)
        {
            var wait = block is null ? 0 : Wait(session, deadline);
            var max = count == 0 ? session.Broker.Settings.MaxFetchRecords : Math.Min(count, session.Broker.Settings.MaxFetchRecords);
            var pages = await Task.WhenAll(streams.Select((s, i) => FetchAsync(session, s, offsets[i], max, wait, session.Closed)));
            if (pages.Any(p => p.Length > 0))
            {
                return StreamsReply(session, Enumerable.Range(0, streams.Length).Where(i => pages[i].Length > 0).Select(i => (streams[i], pages[i])));
            }

            if (block is null || (deadline is { } d && Environment.TickCount64 >= d) || session.Closed.IsCancellationRequested)
            {
                return RespValue.NullArray;
            }
        }
    }

    private static async Task<StoredRecord[]> FetchAsync(RespSession session, string stream, long offset, int count, int waitMs, CancellationToken cancellationToken)
    {
        if (await session.Door.Streams.FindAsync(stream) is null)
        {
            // No such stream yet: a blocking read waits for it to appear.
            if (waitMs > 0)
            {
                await Task.Delay(Math.Min(waitMs, 100), cancellationToken);
            }

            return [];
        }

        try
        {
            var page = await session.Broker.FetchAsync(stream, 0, offset, count, waitMs, cancellationToken);
            return page.Records;
        }
        catch (BrokerRequestException e) when (e.Code == BrokerErrorCode.OffsetOutOfRange)
        {
            return [];
        }
    }

    private static int Wait(RespSession session, long? deadline)
    {
        var max = (int)session.Broker.Settings.MaxWait.TotalMilliseconds;
        return deadline is { } d ? (int)Math.Clamp(d - Environment.TickCount64, 1, max) : max;
    }

    private static async Task<long> StartOffsetAsync(RespSession session, string stream, string id)
    {
        if (id == "$" || id == "+")
        {
            if (await session.Door.Streams.FindAsync(stream) is null)
            {
                return 0;
            }

            var info = await session.Broker.GetPartitionInfoAsync(stream, 0, CancellationToken.None);
            return id == "$" ? info.EndOffset : Math.Max(info.StartOffset, info.EndOffset - 1);
        }

        if (!RespStreams.TryParseId(id, endOfMs: false, out var ms, out var seq))
        {
            throw new RespCommandException("ERR Invalid stream ID specified as stream command argument");
        }

        return RespStreams.FirstOffsetAfter(ms, seq);
    }

    private static (int Count, int? Block, bool NoAck, int StreamsAt) ParseReadOptions(RespRequest request, int i, bool allowNoAck)
    {
        var count = 0;
        int? block = null;
        var noAck = false;
        for (; i < request.Count; i++)
        {
            if (request.Is(i, "COUNT"u8) && i + 1 < request.Count)
            {
                if (!request.TryLong(++i, out var n))
                {
                    throw new RespCommandException("ERR value is not an integer or out of range");
                }

                count = (int)Math.Clamp(n, 0, int.MaxValue);
            }
            else if (request.Is(i, "BLOCK"u8) && i + 1 < request.Count)
            {
                if (!request.TryLong(++i, out var ms) || ms < 0)
                {
                    throw new RespCommandException("ERR timeout is not an integer or out of range");
                }

                block = (int)Math.Min(ms, int.MaxValue);
            }
            else if (allowNoAck && request.Is(i, "NOACK"u8))
            {
                noAck = true;
            }
            else if (request.Is(i, "STREAMS"u8))
            {
                return (count, block, noAck, i + 1);
            }
            else
            {
                throw new RespCommandException("ERR syntax error");
            }
        }

        throw new RespCommandException("ERR syntax error");
    }

    private static (string[] Streams, string[] Ids) Streams(RespRequest request, int at)
    {
        var n = request.Count - at;
        if (n <= 0 || n % 2 != 0)
        {
            throw new RespCommandException("ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.");
        }

        var streams = Enumerable.Range(at, n / 2).Select(i => Text(request, i)).ToArray();
        foreach (var stream in streams)
        {
            RespStreams.RequireName(stream);
        }

        return (streams, Enumerable.Range(at + n / 2, n / 2).Select(i => Text(request, i)).ToArray());
    }

    private static RespValue StreamsReply(RespSession session, IEnumerable<(string Stream, StoredRecord[] Records)> streams)
    {
        var items = streams.Select(s => (Key: RespValue.Bulk(s.Stream), Entries: RespValue.Array([.. s.Records.Select(RespStreams.Entry)]))).ToList();
        return session.Protocol == 3
            ? RespValue.Map([.. items.SelectMany(i => new[] { i.Key, i.Entries })])
            : RespValue.Array([.. items.Select(i => RespValue.Array(i.Key, i.Entries))]);
    }

    // ---- consumer groups

    private static async ValueTask<RespValue> XGroupAsync(RespSession session, RespRequest request)
    {
        if (!request.Is(1, "CREATE"u8) || request.Count < 5)
        {
            return RespValue.Error($"ERR ActorGrid supports XGROUP CREATE <stream> <group> <id|$> [MKSTREAM] (got XGROUP {request.Text(1)})");
        }

        var stream = Text(request, 2);
        var group = Text(request, 3);
        var id = Text(request, 4);
        session.Require(GridAccess.Write, GridResource.Topic, stream);
        session.Require(GridAccess.Write, GridResource.Group, group);
        var create = false;
        for (var i = 5; i < request.Count; i++)
        {
            if (request.Is(i, "MKSTREAM"u8))
            {
                create = true;
            }
            else if (request.Is(i, "ENTRIESREAD"u8) && i + 1 < request.Count)
            {
                i++;
            }
            else
            {
                return RespValue.Error("ERR syntax error");
            }
        }

        var streams = session.Door.Streams;
        if (create)
        {
            await streams.GetOrCreateAsync(stream, null, session.Caller);
        }
        else if (await streams.FindAsync(stream) is null)
        {
            return RespValue.Error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
        }

        if (await streams.FindGroupAsync(group, stream) is not null)
        {
            return RespValue.Error("BUSYGROUP Consumer Group name already exists");
        }

        var offset = await StartOffsetAsync(session, stream, id == "$" ? "$" : id);
        await streams.CommitAsync(group, stream, offset, session.Caller);
        return RespValue.Ok;
    }

    private static async ValueTask<RespValue> XReadGroupAsync(RespSession session, RespRequest request)
    {
        if (!request.Is(1, "GROUP"u8))
        {
            return RespValue.Error("ERR syntax error");
        }

        var group = Text(request, 2);
        var consumer = Text(request, 3);
        session.Require(GridAccess.Write, GridResource.Group, group);
        var (count, block, noAck, streamsAt) = ParseReadOptions(request, 4, allowNoAck: true);
        var (streams, ids) = Streams(request, streamsAt);
        foreach (var stream in streams)
        {
            if (await session.Door.Streams.FindAsync(stream) is null || await session.Door.Streams.FindGroupAsync(group, stream) is null)
            {
                return RespValue.Error($"NOGROUP No such key '{stream}' or consumer group '{group}' in XREADGROUP with GROUP option");
            }
        }

        if (ids.Any(id => id != ">"))
        {
            return await PendingOfAsync(session, group, consumer, streams, ids, count);
        }

        var max = count == 0 ? session.Broker.Settings.MaxFetchRecords : count;
        var deadline = block is { } ms && ms > 0 ? Environment.TickCount64 + ms : (long?)null;
        var rejoin = false;
        while (true)
        {
            var member = await session.Door.Streams.MemberAsync(group, consumer, streams, session.Caller, rejoin);
            GroupPollResult poll;
            try
            {
                poll = await session.Broker.PollAsync(group, member, session.Caller, max, block is null ? 0 : Wait(session, deadline), session.Broker.Settings.MaxMessageBytes, session.Closed);
            }
            catch (BrokerRequestException e) when (e.Code == BrokerErrorCode.UnknownMember && !rejoin)
            {
                // The member expired (no XREADGROUP for its session timeout): join again.
                rejoin = true;
                continue;
            }

            rejoin = false;
            if (poll.Records.Length > 0)
            {
                if (noAck)
                {
                    var commits = poll.Records.GroupBy(r => r.Topic).Select(g => new PartitionOffset(g.Key, 0, g.Max(r => r.Record.Offset) + 1)).ToArray();
                    await session.Broker.CommitAsync(group, member, session.Caller, poll.Generation, commits, CancellationToken.None);
                }

                return StreamsReply(session, poll.Records.GroupBy(r => r.Topic).Select(g => (g.Key, g.Select(r => r.Record).ToArray())));
            }

            if (block is null || (deadline is { } d && Environment.TickCount64 >= d) || session.Closed.IsCancellationRequested)
            {
                return RespValue.NullArray;
            }
        }
    }

    // XREADGROUP with an id: the consumer's pending entries (delivered to it, not yet acknowledged) after that id.
    private static async Task<RespValue> PendingOfAsync(RespSession session, string group, string consumer, string[] streams, string[] ids, int count)
    {
        var view = await session.Broker.DescribeGroupAsync(group, CancellationToken.None);
        var member = await session.Door.Streams.MemberAsync(group, consumer, streams, session.Caller, rejoin: false);
        var mine = view.Description.Members.FirstOrDefault(m => m.MemberId == member);
        var results = new List<(string, StoredRecord[])>();
        for (var s = 0; s < streams.Length; s++)
        {
            var committed = view.Partitions.FirstOrDefault(p => p.Topic == streams[s])?.Committed ?? 0;
            var position = mine?.Positions.FirstOrDefault(p => p.Topic == streams[s])?.Offset ?? committed;
            var from = Math.Max(committed, await StartOffsetAsync(session, streams[s], ids[s]));
            var records = from < position
                ? await ReadRangeAsync(session.Broker, streams[s], from, position - 1, count == 0 ? long.MaxValue : count)
                : [];
            results.Add((streams[s], [.. records]));
        }

        return StreamsReply(session, results);
    }

    private static async ValueTask<RespValue> XAckAsync(RespSession session, RespRequest request)
    {
        var stream = Text(request, 1);
        var group = Text(request, 2);
        session.Require(GridAccess.Write, GridResource.Group, group);
        var offsets = new List<long>();
        for (var i = 3; i < request.Count; i++)
        {
            if (!RespStreams.TryParseId(Text(request, i), endOfMs: false, out var ms, out var seq))
            {
                return RespValue.Error("ERR Invalid stream ID specified as stream command argument");
            }

            offsets.Add(RespStreams.FirstOffsetFrom(ms, seq));
        }

        if (await session.Door.Streams.FindGroupAsync(group, stream) is not { } view)
        {
            return RespValue.Zero;
        }

        var partition = view.Partitions.FirstOrDefault(p => p.Topic == stream && p.Partition == 0);
        var committed = partition?.Committed ?? 0;
        var delivered = view.Description.Members.SelectMany(m => m.Positions).Where(p => p.Topic == stream).Select(p => p.Offset).DefaultIfEmpty(committed).Max();
        var acked = offsets.Distinct().Count(o => o >= committed && o < delivered);
        var watermark = offsets.Where(o => o < delivered).Select(o => o + 1).DefaultIfEmpty(0).Max();
        if (watermark > committed)
        {
            // Acknowledgement is a watermark, as a Kafka commit: acknowledging an entry acknowledges the earlier ones.
            await session.Door.Streams.CommitAsync(group, stream, watermark, session.Caller);
        }

        return RespValue.Integer(acked);
    }

    private static async ValueTask<RespValue> XPendingAsync(RespSession session, RespRequest request)
    {
        if (request.Count != 3)
        {
            return RespValue.Error("ERR ActorGrid supports the summary form of XPENDING only: XPENDING <stream> <group>");
        }

        var stream = Text(request, 1);
        var group = Text(request, 2);
        session.Require(GridAccess.Read, GridResource.Group, group);
        if (await session.Door.Streams.FindGroupAsync(group, stream) is not { } view)
        {
            return RespValue.Error($"NOGROUP No such key '{stream}' or consumer group '{group}'");
        }

        var committed = view.Partitions.FirstOrDefault(p => p.Topic == stream && p.Partition == 0)?.Committed ?? 0;
        var consumers = view.Description.Members
            .Select(m => (Member: m.MemberId, Position: m.Positions.FirstOrDefault(p => p.Topic == stream)?.Offset))
            .Where(m => m.Position > committed)
            .Select(m => (Name: session.Door.Streams.ConsumerOf(m.Member), Count: m.Position!.Value - committed, Last: m.Position.Value - 1))
            .ToList();
        if (consumers.Count == 0)
        {
            return RespValue.Array(RespValue.Zero, RespValue.Null, RespValue.Null, RespValue.NullArray);
        }

        return RespValue.Array(
            RespValue.Integer(consumers.Sum(c => c.Count)),
            RespValue.Bulk(RespStreams.IdOf(committed)),
            RespValue.Bulk(RespStreams.IdOf(consumers.Max(c => c.Last))),
            RespValue.Array([.. consumers.Select(c => RespValue.Array(RespValue.Bulk(c.Name), RespValue.Bulk(c.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))))]));
    }
}
