#nullable enable
using System.Net;
using System.Text;
using ActorGrid.Client;
using ActorGrid.TestKit.Histories;

namespace ActorGrid.TestKit.Load;

/// <summary>
/// Strong key-value operations — reads, puts, compare-and-sets, creates and deletes — from concurrent clients through
/// whichever nodes are running, recorded for <see cref="KvHistoryChecker.CheckLinearizable"/>. Clients share a few
/// open keys so operations on one key overlap; each key is retired after <c>operationsPerKey</c> operations (the
/// checker's exhaustive search takes at most 62 per key) and a fresh one opened, so a run can last as long as
/// the faults need. Every choice comes from <c>seed</c>.
/// </summary>
public sealed class KvRegisterLoad(Func<IReadOnlyList<ActorGridClient>> nodes, int seed, int clients = 8, int openKeys = 6, int operationsPerKey = 40, string prefix = "register/")
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);
    private readonly History<KvCall, KvReply> _history = new();
    private readonly Lock _gate = new();
    private readonly List<(string Key, int Left)> _open = [];
    private readonly List<string> _keys = [];

    /// <summary>Every operation so far.</summary>
    public IReadOnlyList<Operation<KvCall, KvReply>> Operations => _history.Operations;

    /// <summary>Every key used so far.</summary>
    public IReadOnlyList<string> Keys
    {
        get
        {
            lock (_gate)
            {
                return [.. _keys];
            }
        }
    }

    /// <summary>Operations that completed with a reply.</summary>
    public int Completed => _history.Operations.Count(o => o.Outcome == Outcome.Ok);

    /// <summary>Runs the clients until <paramref name="stop"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(c, stop), CancellationToken.None)));

    /// <summary>
    /// A strong read of every key through <paramref name="node"/>, recorded in the history (retried until answered):
    /// a linearization must explain the final state too, so an acknowledged write that was lost fails the check.
    /// </summary>
    public async Task ReadAllAsync(ActorGridClient node)
    {
        foreach (var key in Keys)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while ((await _history.RecordAsync(clients, new KvCall(KvCallKind.Get, key), () => CallAsync(async t =>
                       await node.Kv.GetAsync(key, cancellationToken: t) is { } v ? KvReply.Read(Encoding.UTF8.GetString(v.Value), v.Version) : KvReply.Absent))).Outcome != Outcome.Ok)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"could not read '{key}' back within 60 s");
                }
            }
        }
    }

    private async Task ClientAsync(int client, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(seed, client));
        var seen = new Dictionary<string, long>();
        var sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            var running = nodes();
            if (running.Count == 0)
            {
                await Task.Delay(50, CancellationToken.None);
                continue;
            }

            var node = running[random.Next(running.Count)];
            var key = NextKey(random);
            var value = $"c{client}-{sequence++}";
            var version = seen.GetValueOrDefault(key, 1);
            var op = random.Next(100) switch
            {
                < 40 => await _history.RecordAsync(client, new KvCall(KvCallKind.Get, key), () => CallAsync(async t =>
                    await node.Kv.GetAsync(key, cancellationToken: t) is { } v ? KvReply.Read(Encoding.UTF8.GetString(v.Value), v.Version) : KvReply.Absent)),
                < 65 => await _history.RecordAsync(client, new KvCall(KvCallKind.Put, key, value), () => CallAsync(async t =>
                    KvReply.Written((await node.Kv.PutAsync(key, value, cancellationToken: t)).Version))),
                < 85 => await _history.RecordAsync(client, new KvCall(KvCallKind.CompareAndSet, key, value, version), () => CallAsync(async t =>
                    KvReply.Written((await node.Kv.PutAsync(key, value, new KvPutOptions(IfVersion: version), t)).Version))),
                < 93 => await _history.RecordAsync(client, new KvCall(KvCallKind.Create, key, value), () => CallAsync(async t =>
                    KvReply.Written((await node.Kv.PutAsync(key, value, new KvPutOptions(IfAbsent: true), t)).Version))),
                _ => await _history.RecordAsync(client, new KvCall(KvCallKind.Delete, key), () => CallAsync(async t =>
                    await node.Kv.DeleteAsync(key, cancellationToken: t) ? new KvReply(true, null, 0) : KvReply.Absent)),
            };
            if (op is { Outcome: Outcome.Ok, Reply: { Found: true, Version: > 0 } reply })
            {
                seen[key] = reply.Version;
            }
        }
    }

    private string NextKey(Random random)
    {
        lock (_gate)
        {
            while (_open.Count < openKeys)
            {
                var key = prefix + _keys.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                _keys.Add(key);
                _open.Add((key, operationsPerKey));
            }

            var i = random.Next(_open.Count);
            var (chosen, left) = _open[i];
            if (left == 1)
            {
                _open.RemoveAt(i);
            }
            else
            {
                _open[i] = (chosen, left - 1);
            }

            return chosen;
        }
    }

    private static async Task<(KvReply? Reply, Outcome Outcome)> CallAsync(Func<CancellationToken, Task<KvReply>> call)
    {
        using var timeout = new CancellationTokenSource(CallTimeout);
        try
        {
            return (await call(timeout.Token), Outcome.Ok);
        }
        catch (ActorGridException e) when (e.Status == HttpStatusCode.PreconditionFailed)
        {
            return (KvReply.Precondition, Outcome.Ok);
        }
        catch (ActorGridException e) when (e.Status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge)
        {
            return (null, Outcome.Failed);
        }
        catch (Exception e) when (e is ActorGridException or HttpRequestException or OperationCanceledException or IOException)
        {
            // A 503, a timeout or a broken connection says nothing about whether a write happened.
            return (null, Outcome.Unknown);
        }
    }
}
