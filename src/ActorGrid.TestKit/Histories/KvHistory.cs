#nullable enable
namespace ActorGrid.TestKit.Histories;

/// <summary>The kind of a key-value call.</summary>
public enum KvCallKind
{
    /// <summary>Unconditional put.</summary>
    Put,

    /// <summary>Put with <c>If-Match: "version"</c> (compare-and-set).</summary>
    CompareAndSet,

    /// <summary>Put with <c>If-None-Match: *</c> (create only).</summary>
    Create,

    /// <summary>Delete.</summary>
    Delete,

    /// <summary>Strong (linearizable) read.</summary>
    Get,
}

/// <summary>A key-value call.</summary>
public sealed record KvCall(KvCallKind Kind, string Key, string? Value = null, long? ExpectedVersion = null)
{
    /// <inheritdoc />
    public override string ToString() => $"{Kind}({Key}{(Value is null ? "" : "=" + Value)}{(ExpectedVersion is null ? "" : " if v" + ExpectedVersion)})";
}

/// <summary>
/// What a key-value call was told. Record a 412 or a 404 as <see cref="Outcome.Ok"/> with
/// <see cref="PreconditionFailed"/> / <see cref="Found"/> set: it is an observation the checker verifies.
/// </summary>
public sealed record KvReply(bool Found, string? Value, long Version, bool PreconditionFailed = false)
{
    /// <summary>A write acknowledged with its new version.</summary>
    public static KvReply Written(long version) => new(true, null, version);

    /// <summary>A read that found a value.</summary>
    public static KvReply Read(string value, long version) => new(true, value, version);

    /// <summary>A read or delete of an absent key.</summary>
    public static readonly KvReply Absent = new(false, null, 0);

    /// <summary>A 412 answer.</summary>
    public static readonly KvReply Precondition = new(false, null, 0, PreconditionFailed: true);

    /// <inheritdoc />
    public override string ToString() =>
        PreconditionFailed ? "412" : !Found ? "absent" : Value is null ? $"v{Version}" : $"{Value}@v{Version}";
}

/// <summary>
/// Checks key-value histories: strong operations are linearizable per key (SPEC §7), and every acknowledged write
/// is still readable at the end.
/// </summary>
public static class KvHistoryChecker
{
    private readonly record struct Register(bool Exists, string? Value, long Version);

    /// <summary>Per-key linearizability of every operation in <paramref name="history"/>.</summary>
    public static CheckResult CheckLinearizable(IReadOnlyList<Operation<KvCall, KvReply>> history)
    {
        var violations = new List<string>();
        var byKey = history.GroupBy(o => o.Call.Key).ToList();
        foreach (var key in byKey)
        {
            var problem = LinearizabilityChecker.Check(key.ToList(), new Register(false, null, 0), Step);
            if (problem is not null)
            {
                violations.Add($"key '{key.Key}': {problem}");
            }
        }

        return new CheckResult("kv linearizability", history.Count, violations);
    }

    /// <summary>
    /// Every acknowledged write is readable afterwards: the final read of each key must show the last acknowledged
    /// write to it, or a later one whose outcome the client did not learn. A write of unknown outcome may take effect
    /// at any time after it was invoked (a request that timed out can still be applied after the writer moved on), so
    /// a newer version is legal when its value is one such a write put.
    /// </summary>
    /// <param name="history">The writes.</param>
    /// <param name="finalReads">What a strong read of each written key returned after the faults healed.</param>
    public static CheckResult CheckAcknowledgedWritesReadable(
        IReadOnlyList<Operation<KvCall, KvReply>> history, IReadOnlyDictionary<string, KvReply> finalReads)
    {
        var violations = new List<string>();
        var checkedCount = 0;
        foreach (var key in history.Where(o => o.Call.Kind != KvCallKind.Get).GroupBy(o => o.Call.Key))
        {
            var acked = key.Where(o => o.Outcome == Outcome.Ok && o.Reply is { PreconditionFailed: false }).ToList();
            if (acked.Count == 0)
            {
                continue;
            }

            checkedCount++;
            // The last write: the highest acknowledged version, unless a delete was invoked after it completed.
            var lastPut = acked.Where(o => o.Call.Kind != KvCallKind.Delete).MaxBy(o => o.Reply!.Version);
            var lastDelete = acked.Where(o => o.Call.Kind == KvCallKind.Delete).MaxBy(o => o.Completed);
            var last = lastPut is null || (lastDelete is not null && lastDelete.Invoked > lastPut.Completed) ? lastDelete! : lastPut;
            if (!finalReads.TryGetValue(key.Key, out var final))
            {
                violations.Add($"key '{key.Key}': acknowledged {last.Call} but the key was not read back");
                continue;
            }

            var unknownPutLanded = final.Found && key.Any(o => o is { Outcome: Outcome.Unknown, Call.Kind: not KvCallKind.Delete } && o.Call.Value == final.Value);
            if (last.Call.Kind == KvCallKind.Delete)
            {
                if (final.Found && !unknownPutLanded && final.Version <= acked.Where(o => o.Call.Kind != KvCallKind.Delete).Select(o => o.Reply!.Version).DefaultIfEmpty(0).Max())
                {
                    violations.Add($"key '{key.Key}': acknowledged delete but read {final}");
                }

                continue;
            }

            var version = last.Reply!.Version;
            if (!final.Found || final.Version < version)
            {
                violations.Add($"key '{key.Key}': lost acknowledged {last.Call}@v{version}; read {final}");
            }
            else if (final.Version == version && final.Value != last.Call.Value)
            {
                violations.Add($"key '{key.Key}': v{version} was acknowledged as '{last.Call.Value}' but reads '{final.Value}'");
            }
            else if (final.Version > version && !unknownPutLanded && !acked.Any(o => o.Reply!.Version == final.Version))
            {
                var acknowledgedAs = acked.FirstOrDefault(o => o.Call.Value == final.Value);
                violations.Add(acknowledgedAs is null
                    ? $"key '{key.Key}': reads v{final.Version} '{final.Value}' that no write produced (last acknowledged v{version})"
                    : $"key '{key.Key}': reads v{final.Version} '{final.Value}', a write acknowledged as v{acknowledgedAs.Reply!.Version}: applied twice (last acknowledged v{version})");
            }
        }

        return new CheckResult("kv acknowledged writes", checkedCount, violations);
    }

    private static (bool, Register) Step(Register state, Operation<KvCall, KvReply> op)
    {
        var call = op.Call;
        var reply = op.Reply;
        var written = state with { Exists = true, Value = call.Value, Version = state.Version + 1 };
        if (op.Outcome == Outcome.Unknown)
        {
            // Took effect (this placement) with whatever the server would have done.
            return call.Kind switch
            {
                KvCallKind.Get => (true, state),
                KvCallKind.Put => (true, written),
                KvCallKind.CompareAndSet => (true, state.Exists && state.Version == call.ExpectedVersion ? written : state),
                KvCallKind.Create => (true, state.Exists ? state : written),
                KvCallKind.Delete => (true, state with { Exists = false, Value = null }),
                _ => (false, state),
            };
        }

        switch (call.Kind)
        {
            case KvCallKind.Get:
                return (reply!.Found == state.Exists && (!state.Exists || (reply.Value == state.Value && reply.Version == state.Version)), state);
            case KvCallKind.Put:
                return (reply!.Version == written.Version, written);
            case KvCallKind.CompareAndSet:
                var casHolds = state.Exists && state.Version == call.ExpectedVersion;
                return reply!.PreconditionFailed ? (!casHolds, state) : (casHolds && reply.Version == written.Version, written);
            case KvCallKind.Create:
                return reply!.PreconditionFailed ? (state.Exists, state) : (!state.Exists && reply.Version == written.Version, written);
            case KvCallKind.Delete:
                return reply!.Found ? (state.Exists, state with { Exists = false, Value = null }) : (!state.Exists, state);
            default:
                return (false, state);
        }
    }
}
