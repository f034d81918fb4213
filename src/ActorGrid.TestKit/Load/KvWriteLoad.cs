#nullable enable
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using ActorGrid.TestKit.Histories;

namespace ActorGrid.TestKit.Load;

/// <summary>
/// Continuous key-value writes over the HTTP API while faults are injected: each writer owns its keys and puts
/// fresh values through whichever node answers, recording every call in a <see cref="History{TCall, TReply}"/>,
/// and measuring for each key the longest time it could not be written.
/// </summary>
public sealed class KvWriteLoad
{
    private readonly Func<IReadOnlyList<HttpClient>> _nodes;
    private readonly History<KvCall, KvReply> _history = new();
    private readonly Dictionary<string, TimeSpan> _longestOutage = [];
    private readonly Lock _gate = new();

    /// <summary>Writes to <paramref name="keysPerWriter"/> keys per writer through the nodes <paramref name="nodes"/> returns at each call.</summary>
    public KvWriteLoad(Func<IReadOnlyList<HttpClient>> nodes, int writers = 4, int keysPerWriter = 5, string prefix = "load/")
    {
        _nodes = nodes;
        Keys = Enumerable.Range(0, writers).Select(w => Enumerable.Range(0, keysPerWriter).Select(k => $"{prefix}w{w}/k{k}").ToList()).ToList();
    }

    /// <summary>The keys of each writer.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Keys { get; }

    /// <summary>Every call made so far.</summary>
    public IReadOnlyList<Operation<KvCall, KvReply>> Operations => _history.Operations;

    /// <summary>Acknowledged writes so far.</summary>
    public int Acknowledged => _history.Operations.Count(o => o.Outcome == Outcome.Ok);

    /// <summary>For each key, the longest span between a failed write and the next acknowledged one.</summary>
    public IReadOnlyDictionary<string, TimeSpan> LongestOutage
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, TimeSpan>(_longestOutage);
            }
        }
    }

    /// <summary>Runs the writers until <paramref name="stop"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Keys.Select((keys, writer) => Task.Run(() => WriterAsync(writer, keys, stop), CancellationToken.None)));

    /// <summary>Strong reads of every key after the faults, through <paramref name="node"/>, for <see cref="KvHistoryChecker"/>.</summary>
    public async Task<IReadOnlyDictionary<string, KvReply>> ReadAllAsync(HttpClient node)
    {
        var reads = new Dictionary<string, KvReply>();
        foreach (var key in Keys.SelectMany(k => k))
        {
            reads[key] = await ReadAsync(node, key);
        }

        return reads;
    }

    private async Task WriterAsync(int writer, IReadOnlyList<string> keys, CancellationToken stop)
    {
        var sequence = 0;
        var node = writer;
        var failingSince = keys.ToDictionary(k => k, _ => (long?)null);
        while (!stop.IsCancellationRequested)
        {
            var key = keys[sequence % keys.Count];
            var value = $"w{writer}-{sequence++}";
            var nodes = _nodes();
            if (nodes.Count == 0)
            {
                await Task.Delay(50, CancellationToken.None);
                continue;
            }

            var http = nodes[node % nodes.Count];
            var op = await _history.RecordAsync(writer, new KvCall(KvCallKind.Put, key, value), () => PutAsync(http, key, value));
            if (op.Outcome == Outcome.Ok)
            {
                if (failingSince[key] is { } since)
                {
                    var outage = Stopwatch.GetElapsedTime(since, op.Completed);
                    lock (_gate)
                    {
                        _longestOutage[key] = _longestOutage.TryGetValue(key, out var longest) && longest > outage ? longest : outage;
                    }

                    failingSince[key] = null;
                }
            }
            else
            {
                failingSince[key] ??= op.Invoked;
                node++;
            }
        }
    }

    private static async Task<(KvReply?, Outcome)> PutAsync(HttpClient http, string key, string value)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        using var response = await http.PutAsync("kv/" + key, new StringContent(value), timeout.Token);
        if (!response.IsSuccessStatusCode)
        {
            // A 503 or 500 says nothing about whether the write happened.
            return (null, response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge ? Outcome.Failed : Outcome.Unknown);
        }

        var body = await response.Content.ReadFromJsonAsync<PutBody>(timeout.Token);
        return (KvReply.Written(body!.Version), Outcome.Ok);
    }

    private static async Task<KvReply> ReadAsync(HttpClient http, string key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("kv/" + key);
                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return KvReply.Absent;
                }

                if (response.IsSuccessStatusCode)
                {
                    var version = long.Parse(response.Headers.ETag!.Tag.Trim('"'), System.Globalization.CultureInfo.InvariantCulture);
                    return KvReply.Read(await response.Content.ReadAsStringAsync(), version);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"could not read '{key}' back within 30 s");
            }

            await Task.Delay(200);
        }
    }

    private sealed record PutBody(string Key, long Version);
}
