#nullable enable
using System.Net;
using System.Net.Http.Json;
using ActorGrid.TestKit.Histories;

namespace ActorGrid.TestKit.Load;

/// <summary>
/// Continuous idempotent production to a topic over the HTTP API while faults are injected. Each producer retries
/// an unanswered batch with the same (producerId, sequence) on another node until it is acknowledged, so a record
/// is either acknowledged once or still being retried when the load stops — never skipped.
/// </summary>
public sealed class BrokerProduceLoad(Func<IReadOnlyList<HttpClient>> nodes, string topic, int producers = 2)
{
    private readonly List<ProducedRecord> _acknowledged = [];
    private readonly Lock _gate = new();

    /// <summary>The topic produced to.</summary>
    public string Topic => topic;

    /// <summary>Records acknowledged so far, with the partition and offset the broker gave them.</summary>
    public IReadOnlyList<ProducedRecord> Acknowledged
    {
        get
        {
            lock (_gate)
            {
                return [.. _acknowledged];
            }
        }
    }

    /// <summary>Creates the topic (idempotent) through <paramref name="node"/>.</summary>
    public static async Task CreateTopicAsync(HttpClient node, string topic, int partitions)
    {
        using var response = await node.PutAsJsonAsync($"topics/{topic}", new { partitions });
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Runs the producers until <paramref name="stop"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, producers).Select(p => Task.Run(() => ProducerAsync(p, stop), CancellationToken.None)));

    /// <summary>Everything in the topic's partitions, read from offset 0 through <paramref name="node"/>.</summary>
    public async Task<IReadOnlyList<ConsumedRecord>> ReadAllAsync(HttpClient node, int partitions)
    {
        var records = new List<ConsumedRecord>();
        for (var partition = 0; partition < partitions; partition++)
        {
            long offset = 0;
            while (true)
            {
                // Right after a restart or a crash a partition answers 503 until its new owner serves: wait for it.
                FetchBody? page = null;
                var url = $"topics/{topic}/partitions/{partition}/messages?offset={offset}&max=500";
                await Eventually.AwaitAsync(async () =>
                {
                    using var response = await node.GetAsync(url);
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        return $"{url} answered 503";
                    }

                    response.EnsureSuccessStatusCode();
                    page = await response.Content.ReadFromJsonAsync<FetchBody>();
                    return null;
                }, TimeSpan.FromSeconds(60), $"partition {partition} to serve reads");
                records.AddRange(page!.Records.Select(r => new ConsumedRecord(topic, partition, r.Offset, r.Value)));
                if (page.Records.Count == 0 || page.NextOffset >= page.EndOffset)
                {
                    break;
                }

                offset = page.NextOffset;
            }
        }

        return records;
    }

    private async Task ProducerAsync(int producer, CancellationToken stop)
    {
        var producerId = $"load-{producer}-{Guid.NewGuid():N}";
        long sequence = 0;
        var node = producer;
        while (!stop.IsCancellationRequested)
        {
            var values = Enumerable.Range(0, 5).Select(i => $"{producerId}:{sequence + i}").ToList();
            // Retry the same batch with the same (producerId, sequence) until it is acknowledged: exactly once.
            while (true)
            {
                var all = nodes();
                if (all.Count > 0)
                {
                    var results = await TryProduceAsync(all[node % all.Count], producerId, sequence, values);
                    if (results is not null)
                    {
                        lock (_gate)
                        {
                            _acknowledged.AddRange(values.Select((v, i) =>
                                new ProducedRecord(topic, results[i].Partition, results[i].Offset, v, producerId, sequence + i)));
                        }

                        break;
                    }
                }

                node++;
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                await Task.Delay(50, CancellationToken.None);
            }

            sequence += values.Count;
        }
    }

    private async Task<IReadOnlyList<ResultBody>?> TryProduceAsync(HttpClient http, string producerId, long sequence, IReadOnlyList<string> values)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            // One key per producer keeps its records in one partition, where their order is guaranteed.
            var body = new { records = values.Select(v => new { key = producerId, value = v }), producerId, sequence };
            using var response = await http.PostAsJsonAsync($"topics/{topic}/messages", body, timeout.Token);
            if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.RequestEntityTooLarge)
            {
                throw new InvalidOperationException($"produce refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(timeout.Token)}");
            }

            return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<ProduceBody>(timeout.Token))!.Results : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private sealed record ProduceBody(IReadOnlyList<ResultBody> Results);

    private sealed record ResultBody(int Partition, long Offset);

    private sealed record FetchBody(IReadOnlyList<FetchedRecord> Records, long NextOffset, long EndOffset);

    private sealed record FetchedRecord(long Offset, string? Key, string Value);
}
