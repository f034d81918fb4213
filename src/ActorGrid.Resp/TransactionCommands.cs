#nullable enable
using ActorGrid.KeyValue;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.Resp;

/// <summary>
/// WATCH / MULTI / EXEC / DISCARD. The queued commands and the watched versions travel to the owning partition as
/// one <see cref="Execute"/>: it checks the versions and decides every op in one step, so a transaction is atomic
/// and isolated there. All its keys (watched ones included) must share a partition (a hash tag puts them in one);
/// otherwise EXEC answers CROSSSLOT, as Redis Cluster does.
/// </summary>
internal static class TransactionCommands
{
    public const string CrossSlot = "CROSSSLOT Keys in request don't hash to the same slot (ActorGrid: use a {hash-tag} to keep them in one partition)";

    public static void Register(List<RespCommand> commands)
    {
        commands.Add(new RespCommand("MULTI", 1, CommandClass.Other, CommandFlags.Transaction, 0, 0, 0, Multi));
        commands.Add(new RespCommand("EXEC", 1, CommandClass.Other, CommandFlags.Transaction, 0, 0, 0, ExecAsync));
        commands.Add(new RespCommand("DISCARD", 1, CommandClass.Other, CommandFlags.Transaction, 0, 0, 0, Discard));
        commands.Add(new RespCommand("WATCH", -2, CommandClass.Other, CommandFlags.Transaction, 1, -1, 1, WatchAsync));
        commands.Add(new RespCommand("UNWATCH", 1, CommandClass.Other, CommandFlags.Transaction, 0, 0, 0, Unwatch));
    }

    private static ValueTask<RespValue> Multi(RespSession session, RespRequest request)
    {
        if (session.InMulti)
        {
            return ValueTask.FromResult(RespValue.Error("ERR MULTI calls can not be nested"));
        }

        session.InMulti = true;
        return ValueTask.FromResult(RespValue.Ok);
    }

    private static ValueTask<RespValue> Discard(RespSession session, RespRequest request)
    {
        if (!session.InMulti)
        {
            return ValueTask.FromResult(RespValue.Error("ERR DISCARD without MULTI"));
        }

        session.EndTransaction();
        return ValueTask.FromResult(RespValue.Ok);
    }

    private static ValueTask<RespValue> Unwatch(RespSession session, RespRequest request)
    {
        session.Watches.Clear();
        return ValueTask.FromResult(RespValue.Ok);
    }

    private static async ValueTask<RespValue> WatchAsync(RespSession session, RespRequest request)
    {
        if (session.InMulti)
        {
            return RespValue.Error("ERR WATCH inside MULTI is not allowed");
        }

        var ops = new List<KvOp>();
        for (var i = 1; i < request.Count; i++)
        {
            var key = StringCommands.Key(request, i, out var error);
            if (key is null)
            {
                return error!.Value;
            }

            ops.Add(new KvOp(KvOpCode.Inspect, key));
        }

        var results = await session.Kv.ExecuteEachAsync(ops);
        for (var i = 0; i < ops.Count; i++)
        {
            if (results[i].Outcome == KvOpOutcome.Error)
            {
                return StringCommands.OpError(results[i]);
            }

            // The first WATCH of a key counts: a later one must not hide a change in between.
            session.Watches.TryAdd(ops[i].Key, results[i].Version);
        }

        return RespValue.Ok;
    }

    private static async ValueTask<RespValue> ExecAsync(RespSession session, RespRequest request)
    {
        if (!session.InMulti)
        {
            return RespValue.Error("ERR EXEC without MULTI");
        }

        var dirty = session.MultiDirty;
        var queue = session.Queue.ToList();
        var watches = session.Watches.Select(w => new WatchedKey(w.Key, w.Value)).ToList();
        session.EndTransaction();
        if (dirty)
        {
            return RespValue.Error("EXECABORT Transaction discarded because of previous errors.");
        }

        var ops = queue.SelectMany(q => q.Plan.Ops).ToList();
        if (ops.Count == 0 && watches.Count == 0)
        {
            return RespValue.EmptyArray;
        }

        if (session.Kv.CommonPartition(ops.Select(o => o.Key).Concat(watches.Select(w => w.Key))) is null)
        {
            return RespValue.Error(CrossSlot);
        }

        var result = await session.Kv.ExecuteAsync(ops, watches);
        switch (result.Status)
        {
            case ExecuteStatus.Aborted:
                return RespValue.NullArray;
            case ExecuteStatus.Failed:
                return RespValue.Error("ERR " + result.Error);
        }

        var replies = new RespValue[queue.Count];
        var offset = 0;
        for (var i = 0; i < queue.Count; i++)
        {
            var plan = queue[i].Plan;
            var results = new ArraySegment<KvOpResult>(result.Results, offset, plan.Ops.Length);
            replies[i] = plan.Reply(results);
            offset += plan.Ops.Length;
        }

        return RespValue.Array(replies);
    }
}
