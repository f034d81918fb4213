#nullable enable
using System.Collections.Concurrent;
using System.Globalization;

namespace ActorGrid.Resp;

/// <summary>
/// SCAN, KEYS and DBSIZE over every partition. A SCAN cursor stands for (partition, last key returned); the node
/// that issued it keeps it for <see cref="ScanCursors.Lifetime"/>. Keys present for the whole iteration are
/// returned exactly once (partitions are walked in key order); keys written meanwhile may or may not be.
/// </summary>
internal static class KeyspaceCommands
{
    public static void Register(List<RespCommand> commands)
    {
        commands.Add(new RespCommand("SCAN", -2, CommandClass.Read, CommandFlags.None, 0, 0, 0, ScanAsync, Resource: null));
        commands.Add(new RespCommand("KEYS", 2, CommandClass.Read, CommandFlags.None, 0, 0, 0, KeysAsync, Resource: null));
        commands.Add(new RespCommand("DBSIZE", 1, CommandClass.Read, CommandFlags.None, 0, 0, 0, DbSizeAsync, Resource: null));
    }

    private static async ValueTask<RespValue> ScanAsync(RespSession session, RespRequest request)
    {
        if (!request.TryLong(1, out var cursor) || cursor < 0)
        {
            return RespValue.Error("ERR invalid cursor");
        }

        var pattern = "*";
        var count = 10;
        string? type = null;
        for (var i = 2; i < request.Count; i++)
        {
            if (request.Is(i, "MATCH"u8) && i + 1 < request.Count)
            {
                pattern = request.Text(++i) ?? "";
            }
            else if (request.Is(i, "COUNT"u8) && i + 1 < request.Count)
            {
                if (!request.TryLong(++i, out var n) || n < 1)
                {
                    return RespValue.Error(n < 1 ? "ERR syntax error" : "ERR value is not an integer or out of range");
                }

                count = (int)Math.Min(n, KeyValue.KvProtocol.Settings.MaxScanLimit);
            }
            else if (request.Is(i, "TYPE"u8) && i + 1 < request.Count)
            {
                type = (request.Text(++i) ?? "").ToLowerInvariant();
            }
            else
            {
                return RespValue.Error("ERR syntax error");
            }
        }

        ScanCursors.Position position;
        if (cursor == 0)
        {
            position = new ScanCursors.Position(0, null);
        }
        else if (session.Door.Scans.Find(cursor) is { } resumed)
        {
            position = resumed;
        }
        else
        {
            return RespValue.Error("ERR invalid cursor (ActorGrid SCAN cursors live on the node that issued them, for ten minutes)");
        }

        if (type is not (null or "string"))
        {
            return RespValue.Array(RespValue.Bulk("0"), RespValue.EmptyArray);
        }

        var prefix = Glob.LiteralPrefix(pattern);
        var keys = new List<RespValue>();
        var (partition, after) = position;
        while (partition < session.Kv.Partitions && keys.Count < count)
        {
            var page = await session.Kv.ScanPartitionAsync(partition, prefix, after, count - keys.Count);
            keys.AddRange(page.Items.Where(e => Glob.Matches(pattern, e.Key)).Select(e => RespValue.Bulk(e.Key)));
            if (page.Next is null)
            {
                partition++;
                after = null;
            }
            else
            {
                after = page.Next;
            }
        }

        var next = partition >= session.Kv.Partitions ? 0 : session.Door.Scans.Issue(new ScanCursors.Position(partition, after));
        return RespValue.Array(RespValue.Bulk(next.ToString(CultureInfo.InvariantCulture)), RespValue.Array([.. keys]));
    }

    private static async ValueTask<RespValue> KeysAsync(RespSession session, RespRequest request)
    {
        var pattern = request.Text(1) ?? "";
        var prefix = Glob.LiteralPrefix(pattern);
        var keys = await Task.WhenAll(Enumerable.Range(0, session.Kv.Partitions).Select(p => AllKeysAsync(session, p, prefix)));
        return RespValue.Array([.. keys.SelectMany(k => k).Where(k => Glob.Matches(pattern, k)).Order(StringComparer.Ordinal).Select(RespValue.Bulk)]);
    }

    private static async ValueTask<RespValue> DbSizeAsync(RespSession session, RespRequest request)
    {
        var keys = await Task.WhenAll(Enumerable.Range(0, session.Kv.Partitions).Select(p => AllKeysAsync(session, p, "")));
        return RespValue.Integer(keys.Sum(k => k.Count));
    }

    private static async Task<List<string>> AllKeysAsync(RespSession session, int partition, string prefix)
    {
        var keys = new List<string>();
        string? after = null;
        do
        {
            var page = await session.Kv.ScanPartitionAsync(partition, prefix, after, KeyValue.KvProtocol.Settings.MaxScanLimit);
            keys.AddRange(page.Items.Select(e => e.Key));
            after = page.Next;
        }
        while (after is not null);

        return keys;
    }
}

/// <summary>The SCAN cursors a node has issued: cursor number → where the iteration goes on.</summary>
internal sealed class ScanCursors
{
    /// <summary>How long an unused cursor is kept.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private const int MaxCursors = 100_000;
    private readonly ConcurrentDictionary<long, (Position Position, long IssuedAtMs)> _cursors = new();
    private long _last;

    /// <summary>A partition and the last key returned from it (null: from its start).</summary>
    public readonly record struct Position(int Partition, string? After);

    public long Issue(Position position)
    {
        var now = Environment.TickCount64;
        if (_cursors.Count >= MaxCursors)
        {
            foreach (var old in _cursors.Where(c => now - c.Value.IssuedAtMs > Lifetime.TotalMilliseconds).Select(c => c.Key).ToList())
            {
                _cursors.TryRemove(old, out _);
            }
        }

        var cursor = Interlocked.Increment(ref _last);
        _cursors[cursor] = (position, now);
        return cursor;
    }

    public Position? Find(long cursor) =>
        _cursors.TryGetValue(cursor, out var entry) && Environment.TickCount64 - entry.IssuedAtMs <= Lifetime.TotalMilliseconds ? entry.Position : null;
}
