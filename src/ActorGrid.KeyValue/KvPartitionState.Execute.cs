#nullable enable
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue;

/// <summary>What an <see cref="Execute"/> decided: the events to journal together (none when nothing changes) and the reply once they are durable.</summary>
public sealed record ExecuteDecision(IReadOnlyList<object> Events, ExecuteResult Reply);

/// <summary>The Redis-style operations of <see cref="Execute"/>, decided inside the owning partition.</summary>
public sealed partial class KvPartitionState
{
    /// <summary>
    /// Decides an <see cref="Execute"/>: checks the watched versions, then decides each op in order against the
    /// state left by the ops before it. An op that fails (not an integer, too large…) changes nothing and the
    /// others still run, as in a Redis transaction; every write of the command is journaled together.
    /// </summary>
    public ExecuteDecision Decide(Execute command, long nowUnixMs, Settings settings)
    {
        foreach (var watch in command.Watches ?? [])
        {
            if (LiveVersion(Find(watch.Key), nowUnixMs) != watch.Version)
            {
                return new ExecuteDecision([], new ExecuteResult(ExecuteStatus.Aborted, [], $"watched key '{watch.Key}' changed"));
            }
        }

        var working = this;
        var events = new List<object>();
        var results = new KvOpResult[command.Ops.Length];
        for (var i = 0; i < command.Ops.Length; i++)
        {
            var (@event, result) = working.Decide(command.Ops[i], nowUnixMs, settings);
            if (@event is not null)
            {
                events.Add(@event);
                working = working.Apply(@event);
            }

            results[i] = result;
        }

        return new ExecuteDecision(events, new ExecuteResult(ExecuteStatus.Done, results));
    }

    private (object? Event, KvOpResult Result) Decide(KvOp op, long now, Settings settings)
    {
        if (KvKeys.Validate(op.Key) is { } keyError)
        {
            return Fail("invalid key: " + keyError);
        }

        var stored = Find(op.Key);
        var live = stored is not null && stored.IsLiveAt(now) ? stored : null;
        var next = (stored?.Version ?? Purged.LastVersionOf(op.Key)) + 1;
        switch (op.Code)
        {
            case KvOpCode.Get:
            case KvOpCode.Inspect:
                return (null, Current(live));

            case KvOpCode.Set:
            {
                if (op.Condition == SetCondition.NotExists && live is not null || op.Condition == SetCondition.Exists && live is null)
                {
                    return (null, new KvOpResult(KvOpOutcome.Skipped, live?.Version ?? 0, op.ReturnOld ? live?.Value : null, 0, live?.ExpiresAtUnixMs));
                }

                var value = op.Value ?? [];
                if (value.Length > settings.MaxValueBytes)
                {
                    return TooLarge(value.Length, settings);
                }

                if (!TryExpiry(op, live, now, out var expiresAt))
                {
                    return Fail("invalid expire time in 'set' command");
                }

                if (expiresAt is { } at && at <= now)
                {
                    // An expiry already past: Redis stores nothing visible; keep the version count as a tombstone.
                    return (new ValueWritten(op.Key, next, value, at), new KvOpResult(KvOpOutcome.Done, 0, op.ReturnOld ? live?.Value : null));
                }

                return (new ValueWritten(op.Key, next, value, expiresAt), new KvOpResult(KvOpOutcome.Done, next, op.ReturnOld ? live?.Value : null, 0, expiresAt));
            }

            case KvOpCode.Delete:
                return live is null
                    ? (null, new KvOpResult(KvOpOutcome.Skipped))
                    : (new ValueDeleted(op.Key, live.Version), new KvOpResult(KvOpOutcome.Done, 0, op.ReturnOld ? live.Value : null, 1));

            case KvOpCode.IncrBy:
            {
                long current = 0;
                if (live is not null && !TryParseInteger(live.Value!, out current))
                {
                    return Fail("value is not an integer or out of range");
                }

                long sum;
                try
                {
                    sum = checked(current + op.Amount);
                }
                catch (OverflowException)
                {
                    return Fail("increment or decrement would overflow");
                }

                var value = Encoding.ASCII.GetBytes(sum.ToString(CultureInfo.InvariantCulture));
                return (new ValueWritten(op.Key, next, value, live?.ExpiresAtUnixMs), new KvOpResult(KvOpOutcome.Done, next, value, sum, live?.ExpiresAtUnixMs));
            }

            case KvOpCode.IncrByFloat:
            {
                double current = 0;
                if (live is not null && !TryParseFloat(live.Value!, out current))
                {
                    return Fail("value is not a valid float");
                }

                var sum = current + op.Increment;
                if (double.IsNaN(sum) || double.IsInfinity(sum))
                {
                    return Fail("increment would produce NaN or Infinity");
                }

                var value = Encoding.ASCII.GetBytes(FormatFloat(sum));
                return (new ValueWritten(op.Key, next, value, live?.ExpiresAtUnixMs), new KvOpResult(KvOpOutcome.Done, next, value, 0, live?.ExpiresAtUnixMs));
            }

            case KvOpCode.Append:
            {
                var old = live?.Value ?? [];
                var add = op.Value ?? [];
                if ((long)old.Length + add.Length > settings.MaxValueBytes)
                {
                    return TooLarge(old.Length + add.Length, settings);
                }

                var value = new byte[old.Length + add.Length];
                old.CopyTo(value, 0);
                add.CopyTo(value, old.Length);
                return (new ValueWritten(op.Key, next, value, live?.ExpiresAtUnixMs), new KvOpResult(KvOpOutcome.Done, next, null, value.Length, live?.ExpiresAtUnixMs));
            }

            case KvOpCode.Expire:
            {
                if (live is null)
                {
                    return (null, new KvOpResult(KvOpOutcome.Skipped));
                }

                if (!TryExpiry(op, live, now, out var expiresAt))
                {
                    return Fail("invalid expire time");
                }

                if (expiresAt == live.ExpiresAtUnixMs)
                {
                    // PERSIST of a key without a TTL, or GETEX without options: nothing to write.
                    return (null, Current(live) with { Outcome = op.ExpiryMode == ExpiryMode.Clear ? KvOpOutcome.Skipped : KvOpOutcome.Done });
                }

                if (expiresAt is { } at && at <= now)
                {
                    return (new ValueDeleted(op.Key, live.Version), new KvOpResult(KvOpOutcome.Done, 0, op.ReturnOld ? live.Value : null));
                }

                return (new ValueWritten(op.Key, next, live.Value!, expiresAt), new KvOpResult(KvOpOutcome.Done, next, op.ReturnOld ? live.Value : null, 0, expiresAt));
            }

            default:
                return Fail($"unknown operation {op.Code}");
        }
    }

    /// <summary>Whether <paramref name="value"/> is a decimal 64-bit integer as Redis writes one (no spaces, no '+', no leading zeros).</summary>
    public static bool TryParseInteger(ReadOnlySpan<byte> value, out long result)
    {
        result = 0;
        if (value.Length is 0 or > 20 || value[0] == '+' || (value.Length > 1 && value[0] == '0') || (value.Length > 2 && value[0] == '-' && value[1] == '0'))
        {
            return false;
        }

        return Utf8Parser.TryParse(value, out result, out var consumed) && consumed == value.Length && !(value.Length == 2 && value[0] == '-' && value[1] == '0');
    }

    /// <summary>Whether <paramref name="value"/> is a finite floating point number (no spaces).</summary>
    public static bool TryParseFloat(ReadOnlySpan<byte> value, out double result)
    {
        result = 0;
        return value.Length is > 0 and <= 64 && value[0] is not (byte)' ' && value[^1] is not (byte)' '
            && double.TryParse(Encoding.ASCII.GetString(value), NumberStyles.Float, CultureInfo.InvariantCulture, out result)
            && double.IsFinite(result);
    }

    /// <summary>A float as INCRBYFLOAT writes it: plain decimal digits, no exponent, no trailing zeros.</summary>
    public static string FormatFloat(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e17
            ? ((long)value).ToString(CultureInfo.InvariantCulture)
            : value.ToString("0.#################", CultureInfo.InvariantCulture);

    private static long LiveVersion(Entry? entry, long now) => entry is not null && entry.IsLiveAt(now) ? entry.Version : 0;

    private static KvOpResult Current(Entry? live) =>
        live is null ? new KvOpResult(KvOpOutcome.Skipped) : new KvOpResult(KvOpOutcome.Done, live.Version, live.Value, live.Value!.Length, live.ExpiresAtUnixMs);

    // The expiry a write leaves (null: none); false when the requested one is out of range.
    private static bool TryExpiry(KvOp op, Entry? live, long now, out long? at)
    {
        const long maxMs = Settings.MaxTtlSeconds * 1000;
        at = null;
        switch (op.ExpiryMode)
        {
            case ExpiryMode.Clear:
                return true;
            case ExpiryMode.Keep:
                at = live?.ExpiresAtUnixMs;
                return true;
            case ExpiryMode.AfterMs when op.Code == KvOpCode.Set && op.Expiry <= 0:
            case ExpiryMode.AtUnixMs when op.Code == KvOpCode.Set && op.Expiry <= 0:
                return false;
            case ExpiryMode.AfterMs when op.Expiry <= maxMs:
                at = now + op.Expiry;
                return true;
            case ExpiryMode.AtUnixMs when op.Expiry <= now + maxMs:
                at = op.Expiry;
                return true;
            default:
                return false;
        }
    }

    private static (object? Event, KvOpResult Result) Fail(string error) => (null, new KvOpResult(KvOpOutcome.Error, Error: error));

    private static (object? Event, KvOpResult Result) TooLarge(long bytes, Settings settings) =>
        Fail($"string exceeds maximum allowed size ({bytes} bytes; Kv:MaxValueBytes is {settings.MaxValueBytes})");
}
