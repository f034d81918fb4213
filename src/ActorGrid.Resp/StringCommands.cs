#nullable enable
using ActorGrid.KeyValue;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.Resp;

/// <summary>
/// Redis string and key commands over the KV partitions. Each is a planner — the ops it asks of the owning
/// partition and how their results become its reply — so the same code runs it alone, pipelined or inside MULTI.
/// Everything that reads and then writes (INCR, SET … GET, GETDEL, SETNX …) is decided inside the partition.
/// </summary>
internal static class StringCommands
{
    /// <summary>How a multi-key command treats keys in several partitions.</summary>
    internal enum Scope
    {
        /// <summary>One key.</summary>
        Single,

        /// <summary>Atomic within each partition, partitions concurrently (MGET, MSET, DEL, EXISTS).</summary>
        PerPartition,
    }

    public static void Register(List<RespCommand> commands)
    {
        commands.Add(new RespCommand("GET", 2, CommandClass.Read, CommandFlags.Queueable, 1, 1, 1, GetAsync, Get));
        Add(commands, "SET", -3, CommandClass.Write, Set);
        Add(commands, "SETNX", 3, CommandClass.Write, (s, r) => Single(r, 1, o => new KvOp(KvOpCode.Set, o, r.Bytes(2), Condition: SetCondition.NotExists, ExpiryMode: ExpiryMode.Clear), x => Flag(x)));
        Add(commands, "SETEX", 4, CommandClass.Write, (s, r) => SetWithTtl(r, 1000));
        Add(commands, "PSETEX", 4, CommandClass.Write, (s, r) => SetWithTtl(r, 1));
        Add(commands, "GETSET", 3, CommandClass.Write, (s, r) => Single(r, 1, k => new KvOp(KvOpCode.Set, k, r.Bytes(2), ExpiryMode: ExpiryMode.Clear, ReturnOld: true), x => RespValue.Bulk(x.Value)));
        Add(commands, "GETDEL", 2, CommandClass.Write, (s, r) => Single(r, 1, k => new KvOp(KvOpCode.Delete, k, ReturnOld: true), x => RespValue.Bulk(x.Value)));
        Add(commands, "GETEX", -2, CommandClass.Write, GetEx);
        Add(commands, "MGET", -2, CommandClass.Read, (s, r) => Each(r, 1, 1, (k, _) => new KvOp(KvOpCode.Get, k),
            xs => RespValue.Array([.. xs.Select(x => x.Outcome == KvOpOutcome.Done ? RespValue.Bulk(x.Value) : RespValue.Null)])), -1, 1, Scope.PerPartition);
        Add(commands, "MSET", -3, CommandClass.Write, (s, r) => r.Count % 2 == 1 ? Each(r, 1, 2, (k, i) => new KvOp(KvOpCode.Set, k, r.Bytes(i + 1), ExpiryMode: ExpiryMode.Clear),
            xs => FirstError(xs) ?? RespValue.Ok) : KvPlan.Fail("ERR wrong number of arguments for 'mset' command"), -1, 2, Scope.PerPartition);
        commands.Add(new RespCommand("MSETNX", -3, CommandClass.Write, CommandFlags.None, 1, -1, 2, MSetNxAsync));
        Add(commands, "INCR", 2, CommandClass.Write, (s, r) => Incr(r, 1));
        Add(commands, "DECR", 2, CommandClass.Write, (s, r) => Incr(r, -1));
        Add(commands, "INCRBY", 3, CommandClass.Write, (s, r) => IncrBy(r, negate: false));
        Add(commands, "DECRBY", 3, CommandClass.Write, (s, r) => IncrBy(r, negate: true));
        Add(commands, "INCRBYFLOAT", 3, CommandClass.Write, IncrByFloat);
        Add(commands, "APPEND", 3, CommandClass.Write, (s, r) => Single(r, 1, k => new KvOp(KvOpCode.Append, k, r.Bytes(2)), x => RespValue.Integer(x.Integer)));
        Add(commands, "STRLEN", 2, CommandClass.Read, (s, r) => Single(r, 1, k => new KvOp(KvOpCode.Inspect, k), x => RespValue.Integer(x.Outcome == KvOpOutcome.Done ? x.Integer : 0)));
        Add(commands, "DEL", -2, CommandClass.Write, (s, r) => Each(r, 1, 1, (k, _) => new KvOp(KvOpCode.Delete, k), Count), -1, 1, Scope.PerPartition);
        Add(commands, "UNLINK", -2, CommandClass.Write, (s, r) => Each(r, 1, 1, (k, _) => new KvOp(KvOpCode.Delete, k), Count), -1, 1, Scope.PerPartition);
        Add(commands, "EXISTS", -2, CommandClass.Read, (s, r) => Each(r, 1, 1, (k, _) => new KvOp(KvOpCode.Inspect, k), Count), -1, 1, Scope.PerPartition);
        Add(commands, "EXPIRE", -3, CommandClass.Write, (s, r) => Expire(r, 1000, ExpiryMode.AfterMs));
        Add(commands, "PEXPIRE", -3, CommandClass.Write, (s, r) => Expire(r, 1, ExpiryMode.AfterMs));
        Add(commands, "EXPIREAT", -3, CommandClass.Write, (s, r) => Expire(r, 1000, ExpiryMode.AtUnixMs));
        Add(commands, "PEXPIREAT", -3, CommandClass.Write, (s, r) => Expire(r, 1, ExpiryMode.AtUnixMs));
        Add(commands, "PERSIST", 2, CommandClass.Write, (s, r) => Single(r, 1, k => new KvOp(KvOpCode.Expire, k, ExpiryMode: ExpiryMode.Clear), Flag));
        Add(commands, "TTL", 2, CommandClass.Read, (s, r) => Single(r, 1, k => new KvOp(KvOpCode.Inspect, k), x => Ttl(s, x, 1000)));
        Add(commands, "PTTL", 2, CommandClass.Read, (s, r) => Single(r, 1, k => new KvOp(KvOpCode.Inspect, k), x => Ttl(s, x, 1)));
        commands.Add(new RespCommand("TYPE", 2, CommandClass.Read, CommandFlags.Queueable, 1, 1, 1, TypeAsync,
            (s, r) => Single(r, 1, k => new KvOp(KvOpCode.Inspect, k), x => RespValue.Simple(x.Outcome == KvOpOutcome.Done ? "string" : "none"))));
    }

    /// <summary>Runs a plan: in the one partition its keys share or, for <see cref="Scope.PerPartition"/>, in each of theirs.</summary>
    public static async ValueTask<RespValue> RunAsync(RespSession session, KvPlan plan, Scope scope)
    {
        if (plan.Error is { } error)
        {
            return error;
        }

        if (plan.Ops.Length == 1 || scope == Scope.Single || session.Kv.CommonPartition(plan.Ops.Select(o => o.Key)) is not null)
        {
            var result = await session.Kv.ExecuteAsync(plan.Ops);
            return result.Status == ExecuteStatus.Done ? plan.Reply(result.Results) : RespValue.Error("ERR " + result.Error);
        }

        return plan.Reply(await session.Kv.ExecuteEachAsync(plan.Ops));
    }

    /// <summary>The text key at <paramref name="index"/>, or the reason it cannot be one.</summary>
    public static string? Key(RespRequest request, int index, out RespValue? error)
    {
        var key = request.Text(index);
        var invalid = key is null ? "keys must be UTF-8 text" : KvKeys.Validate(key);
        error = invalid is null ? null : RespValue.Error("ERR invalid key: " + invalid);
        return invalid is null ? key : null;
    }

    private static void Add(List<RespCommand> commands, string name, int arity, CommandClass cls, RespPlanner planner, int lastKey = 1, int step = 1, Scope scope = Scope.Single) =>
        commands.Add(new RespCommand(name, arity, cls, CommandFlags.Queueable, 1, lastKey, step, (s, r) => RunAsync(s, planner(s, r), scope), planner));

    private static KvPlan Single(RespRequest request, int keyIndex, Func<string, KvOp> op, Func<KvOpResult, RespValue> reply)
    {
        var key = Key(request, keyIndex, out var error);
        return key is null ? new KvPlan([], _ => default, error) : new KvPlan([op(key)], xs => xs[0].Outcome == KvOpOutcome.Error ? OpError(xs[0]) : reply(xs[0]));
    }

    private static KvPlan Each(RespRequest request, int first, int step, Func<string, int, KvOp> op, Func<ArraySegment<KvOpResult>, RespValue> reply)
    {
        var ops = new KvOp[(request.Count - first + step - 1) / step];
        for (int i = first, n = 0; i < request.Count; i += step, n++)
        {
            var key = Key(request, i, out var error);
            if (key is null)
            {
                return new KvPlan([], _ => default, error);
            }

            ops[n] = op(key, i);
        }

        return new KvPlan(ops, reply);
    }

    private static ValueTask<RespValue> GetAsync(RespSession session, RespRequest request)
    {
        // The hot path: straight to the partition's read, no plan.
        var key = Key(request, 1, out var error);
        if (key is null)
        {
            return ValueTask.FromResult(error!.Value);
        }

        var read = session.Kv.ReadAsync(key);
        return read.IsCompletedSuccessfully ? ValueTask.FromResult(Reply(read.Result)) : AwaitGet(read);

        static async ValueTask<RespValue> AwaitGet(Task<GetResult> read) => Reply(await read);

        static RespValue Reply(GetResult result) => result.Found ? RespValue.Bulk(result.Value) : RespValue.Null;
    }

    private static KvPlan Get(RespSession session, RespRequest request) =>
        Single(request, 1, k => new KvOp(KvOpCode.Get, k), x => x.Outcome == KvOpOutcome.Done ? RespValue.Bulk(x.Value) : RespValue.Null);

    private static KvPlan Set(RespSession session, RespRequest request)
    {
        var condition = SetCondition.None;
        var mode = ExpiryMode.Clear;
        long expiry = 0;
        var returnOld = false;
        for (var i = 3; i < request.Count; i++)
        {
            if (request.Is(i, "NX"u8) && condition == SetCondition.None)
            {
                condition = SetCondition.NotExists;
            }
            else if (request.Is(i, "XX"u8) && condition == SetCondition.None)
            {
                condition = SetCondition.Exists;
            }
            else if (request.Is(i, "GET"u8))
            {
                returnOld = true;
            }
            else if (request.Is(i, "KEEPTTL"u8) && mode == ExpiryMode.Clear)
            {
                mode = ExpiryMode.Keep;
            }
            else if (mode == ExpiryMode.Clear && i + 1 < request.Count && ExpiryOption(request, i) is { } option)
            {
                if (!request.TryLong(++i, out var amount))
                {
                    return KvPlan.Fail("ERR value is not an integer or out of range");
                }

                if (!Scale(amount, option.Scale, out expiry))
                {
                    return KvPlan.Fail("ERR invalid expire time in 'set' command");
                }

                mode = option.Mode;
            }
            else
            {
                return KvPlan.Fail("ERR syntax error");
            }
        }

        return Single(request, 1, k => new KvOp(KvOpCode.Set, k, request.Bytes(2), Condition: condition, ExpiryMode: mode, Expiry: expiry, ReturnOld: returnOld),
            x => returnOld ? RespValue.Bulk(x.Value) : x.Outcome == KvOpOutcome.Done ? RespValue.Ok : RespValue.Null);
    }

    private static KvPlan SetWithTtl(RespRequest request, long scale)
    {
        if (!request.TryLong(2, out var amount))
        {
            return KvPlan.Fail("ERR value is not an integer or out of range");
        }

        if (amount <= 0 || !Scale(amount, scale, out var ms))
        {
            return KvPlan.Fail($"ERR invalid expire time in '{request.Name}' command");
        }

        return Single(request, 1, k => new KvOp(KvOpCode.Set, k, request.Bytes(3), ExpiryMode: ExpiryMode.AfterMs, Expiry: ms), _ => RespValue.Ok);
    }

    private static KvPlan GetEx(RespSession session, RespRequest request)
    {
        var mode = ExpiryMode.Keep;
        long expiry = 0;
        if (request.Count > 2)
        {
            if (request.Count == 3 && request.Is(2, "PERSIST"u8))
            {
                mode = ExpiryMode.Clear;
            }
            else if (request.Count == 4 && ExpiryOption(request, 2) is { } option)
            {
                if (!request.TryLong(3, out var amount))
                {
                    return KvPlan.Fail("ERR value is not an integer or out of range");
                }

                if (amount <= 0 || !Scale(amount, option.Scale, out expiry))
                {
                    return KvPlan.Fail("ERR invalid expire time in 'getex' command");
                }

                mode = option.Mode;
            }
            else
            {
                return KvPlan.Fail("ERR syntax error");
            }
        }

        return Single(request, 1, k => new KvOp(KvOpCode.Expire, k, ExpiryMode: mode, Expiry: expiry, ReturnOld: true), x => RespValue.Bulk(x.Value));
    }

    private static KvPlan Incr(RespRequest request, long amount) =>
        Single(request, 1, k => new KvOp(KvOpCode.IncrBy, k, Amount: amount), x => RespValue.Integer(x.Integer));

    private static KvPlan IncrBy(RespRequest request, bool negate)
    {
        if (!request.TryLong(2, out var amount))
        {
            return KvPlan.Fail("ERR value is not an integer or out of range");
        }

        if (negate && amount == long.MinValue)
        {
            return KvPlan.Fail("ERR decrement would overflow");
        }

        return Incr(request, negate ? -amount : amount);
    }

    private static KvPlan IncrByFloat(RespSession session, RespRequest request)
    {
        if (!request.TryDouble(2, out var increment) || !double.IsFinite(increment))
        {
            return KvPlan.Fail("ERR value is not a valid float");
        }

        return Single(request, 1, k => new KvOp(KvOpCode.IncrByFloat, k, Increment: increment), x => RespValue.Bulk(x.Value));
    }

    private static KvPlan Expire(RespRequest request, long scale, ExpiryMode mode)
    {
        if (request.Count > 3)
        {
            return KvPlan.Fail($"ERR the NX, XX, GT and LT options of '{request.Name}' are not supported by ActorGrid");
        }

        if (!request.TryLong(2, out var amount))
        {
            return KvPlan.Fail("ERR value is not an integer or out of range");
        }

        if (!Scale(amount, scale, out var ms))
        {
            return KvPlan.Fail($"ERR invalid expire time in '{request.Name}' command");
        }

        return Single(request, 1, k => new KvOp(KvOpCode.Expire, k, ExpiryMode: mode, Expiry: ms), Flag);
    }

    private static async ValueTask<RespValue> MSetNxAsync(RespSession session, RespRequest request)
    {
        if (request.Count % 2 == 0)
        {
            return RespValue.Error("ERR wrong number of arguments for 'msetnx' command");
        }

        var plan = Each(request, 1, 2, (k, i) => new KvOp(KvOpCode.Set, k, request.Bytes(i + 1), ExpiryMode: ExpiryMode.Clear), _ => RespValue.One);
        if (plan.Error is { } error)
        {
            return error;
        }

        if (session.Kv.CommonPartition(plan.Ops.Select(o => o.Key)) is null)
        {
            return RespValue.Error(TransactionCommands.CrossSlot);
        }

        // All or nothing: every key must still be absent when the partition decides.
        var result = await session.Kv.ExecuteAsync(plan.Ops, [.. plan.Ops.Select(o => new WatchedKey(o.Key, 0)).DistinctBy(w => w.Key)]);
        return result.Status switch
        {
            ExecuteStatus.Done => FirstError(result.Results) ?? RespValue.One,
            ExecuteStatus.Aborted => RespValue.Zero,
            _ => RespValue.Error("ERR " + result.Error),
        };
    }

    private static async ValueTask<RespValue> TypeAsync(RespSession session, RespRequest request)
    {
        var key = Key(request, 1, out var error);
        if (key is null)
        {
            return error!.Value;
        }

        var read = await session.Kv.ReadAsync(key);
        if (read.Found)
        {
            return RespValue.Simple("string");
        }

        return await session.Door.Streams.ExistsAsync(key) ? RespValue.Simple("stream") : RespValue.Simple("none");
    }

    private static (ExpiryMode Mode, long Scale)? ExpiryOption(RespRequest request, int index) =>
        request.Is(index, "EX"u8) ? (ExpiryMode.AfterMs, 1000)
        : request.Is(index, "PX"u8) ? (ExpiryMode.AfterMs, 1)
        : request.Is(index, "EXAT"u8) ? (ExpiryMode.AtUnixMs, 1000)
        : request.Is(index, "PXAT"u8) ? (ExpiryMode.AtUnixMs, 1)
        : null;

    private static bool Scale(long amount, long scale, out long ms)
    {
        try
        {
            ms = checked(amount * scale);
            return true;
        }
        catch (OverflowException)
        {
            ms = 0;
            return false;
        }
    }

    private static RespValue Ttl(RespSession session, KvOpResult result, long unit)
    {
        if (result.Outcome != KvOpOutcome.Done)
        {
            return RespValue.Integer(-2);
        }

        if (result.ExpiresAtUnixMs is not { } at)
        {
            return RespValue.Integer(-1);
        }

        var left = Math.Max(0, at - session.Door.NowUnixMs());
        return RespValue.Integer(unit == 1 ? left : (left + 500) / 1000);
    }

    private static RespValue Flag(KvOpResult result) => result.Outcome == KvOpOutcome.Done ? RespValue.One : RespValue.Zero;

    private static RespValue Count(ArraySegment<KvOpResult> results) =>
        FirstError(results) ?? RespValue.Integer(results.Count(r => r.Outcome == KvOpOutcome.Done));

    private static RespValue? FirstError(IEnumerable<KvOpResult> results) =>
        results.FirstOrDefault(r => r.Outcome == KvOpOutcome.Error) is { } failed ? OpError(failed) : null;

    /// <summary>The Redis error for an op the partition refused.</summary>
    public static RespValue OpError(KvOpResult result) => RespValue.Error("ERR " + result.Error);
}
