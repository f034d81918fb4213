using System.Collections.Concurrent;
using BrokerGateway = ActorGrid.Broker.Gateway.BrokerGateway;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Histories;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace ActorGrid.Kafka.Tests;

/// <summary>Confluent.Kafka consumer groups (classic protocol, client-side assignors) over ActorGrid's Kafka door.</summary>
public sealed class ConfluentGroupSpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>A consumer that commits each record synchronously after processing it, so a rebalance re-delivers nothing.</summary>
    private sealed class GroupMember : IDisposable
    {
        private readonly IConsumer<string, string> _consumer;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public GroupMember(string name, ConsumerConfig config, string topic, ConcurrentQueue<(string Member, ConsumeResult<string, string> Result)> sink, Action<string> log)
        {
            Name = name;
            _consumer = new ConsumerBuilder<string, string>(config)
                .SetPartitionsAssignedHandler((_, ps) => log($"{name} assigned {string.Join(",", ps.Select(p => p.Partition.Value))}"))
                .SetPartitionsRevokedHandler((_, ps) => log($"{name} revoked {string.Join(",", ps.Select(p => p.Partition.Value))}"))
                .SetErrorHandler((_, e) => log($"{name} error {e.Code} {e.Reason}"))
                .Build();
            _consumer.Subscribe(topic);
            _loop = Task.Factory.StartNew(() =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    ConsumeResult<string, string>? result;
                    try
                    {
                        result = _consumer.Consume(TimeSpan.FromMilliseconds(100));
                    }
                    catch (ConsumeException e) when (!e.Error.IsFatal)
                    {
                        // As an application does (Confluent's guidance): a non-fatal error is reported and consuming goes on.
                        log($"{name} consume error {e.Error.Code} {e.Error.Reason}");
                        continue;
                    }

                    if (result is null || result.IsPartitionEOF)
                    {
                        continue;
                    }

                    sink.Enqueue((name, result));
                    Commit(result, log);
                }
            }, TaskCreationOptions.LongRunning);
        }

        public string Name { get; }

        /// <summary>
        /// Commits synchronously; a commit that fails because the coordinator is away (a node crashed) or the group is
        /// between join and sync is retried until it lands (the partition cannot move meanwhile: revocation runs in this
        /// thread's next Consume), one the group refuses (the generation moved on) is given up, as an application does.
        /// </summary>
        private void Commit(ConsumeResult<string, string> result, Action<string> log)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    _consumer.Commit(result);
                    return;
                }
                catch (KafkaException e) when (attempt < 20 && e.Error.Code is ErrorCode.RebalanceInProgress or ErrorCode.RequestTimedOut or ErrorCode.GroupCoordinatorNotAvailable
                                                   or ErrorCode.NotCoordinatorForGroup or ErrorCode.Local_TimedOut or ErrorCode.Local_Transport)
                {
                    log($"{Name} commit of {result.Partition.Value}@{result.Offset.Value} failed ({e.Error.Code}); retrying");
                }
                catch (KafkaException e)
                {
                    log($"{Name} commit of {result.Partition.Value}@{result.Offset.Value} refused: {e.Error.Code}");
                    return;
                }
            }
        }

        public List<int> Assignment => [.. _consumer.Assignment.Select(p => p.Partition.Value).Order()];

        /// <summary>Stops consuming and leaves the group (LeaveGroup), as a consumer shutting down does.</summary>
        public async Task LeaveAsync()
        {
            await _stop.CancelAsync();
            await _loop;
            _consumer.Close();
        }

        public void Dispose()
        {
            _stop.Cancel();
            _loop.Wait(TimeSpan.FromSeconds(10));
            _consumer.Dispose();
        }
    }

    [Fact]
    public async Task An_idempotent_producer_and_a_group_of_two_lose_and_duplicate_nothing_while_the_node_owning_a_partition_crashes()
    {
        await using var cluster = await KafkaGrid.StartAsync(3, output.WriteLine);
        var bootstrap = KafkaGrid.Bootstrap(cluster[0], cluster[1], cluster[2]);
        await KafkaGrid.CreateTopicAsync(bootstrap, "payments", 6);

        var acknowledged = new ConcurrentQueue<ProducedRecord>();
        var failed = new ConcurrentQueue<string>();
        using var producer = new ProducerBuilder<string, string>(KafkaGrid.Producer(bootstrap)).Build();
        using var stopProducing = new CancellationTokenSource();
        var produced = 0;
        var production = Task.Run(async () =>
        {
            var inFlight = new List<Task>();
            for (var i = 0; !stopProducing.IsCancellationRequested && i < 30_000; i++)
            {
                var value = $"payment-{i}";
                inFlight.Add(producer.ProduceAsync("payments", new Message<string, string> { Key = $"account-{i % 50}", Value = value }).ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        acknowledged.Enqueue(new ProducedRecord("payments", t.Result.Partition.Value, t.Result.Offset.Value, value));
                    }
                    else
                    {
                        failed.Enqueue($"{value}: {t.Exception?.InnerException?.Message}");
                    }
                }, TaskScheduler.Default));
                Interlocked.Increment(ref produced);
                await Task.Delay(i % 5 == 0 ? 20 : 0); // about 250 records/s: the consumers keep up on a loaded machine
            }

            await Task.WhenAll(inFlight);
        });

        var consumed = new ConcurrentQueue<(string Member, ConsumeResult<string, string> Result)>();
        // The session must outlast the group's move (takeover is several seconds here, more under load), as a Kafka
        // consumer's must outlast a coordinator failover: librdkafka gives up a membership whose heartbeats went
        // unanswered for session.timeout.ms, and what it consumed meanwhile cannot be committed.
        ConsumerConfig Config()
        {
            var config = KafkaGrid.Consumer(bootstrap, "ledger");
            config.SessionTimeoutMs = 30_000;
            return config;
        }

        using var a = new GroupMember("a", Config(), "payments", consumed, output.WriteLine);
        using var b = new GroupMember("b", Config(), "payments", consumed, output.WriteLine);
        await Eventually.AwaitAsync(() => a.Assignment.Count > 0 && b.Assignment.Count > 0 && consumed.Count > 200 ? null : $"consumed {consumed.Count}",
            Deadline, "both consumers consume");

        // Crash the node that hosts partition 0's entity (not the node the test kit joins through).
        var gateway = cluster[0].Services.GetRequiredService<BrokerGateway>();
        var topic = await gateway.GetTopicAsync("payments", CancellationToken.None);
        var owners = await gateway.PartitionOwnersAsync([topic], CancellationToken.None);
        var victim = cluster.Nodes.Skip(1).FirstOrDefault(n => owners.Values.Contains(n.Address)) ?? cluster[2];
        output.WriteLine($"[spec] crashing node{victim.Index}, owner of {string.Join(",", owners.Where(o => o.Value == victim.Address).Select(o => o.Key.Partition))}");
        await cluster.CrashAsync(victim.Index);
        await cluster.WaitForUpAsync(2, TimeSpan.FromSeconds(60));
        var afterCrash = acknowledged.Count;
        await Eventually.AwaitAsync(() => acknowledged.Count > afterCrash + 300 ? null : $"acknowledged {acknowledged.Count - afterCrash} since the crash",
            Deadline, "producing goes on after the crash");
        await stopProducing.CancelAsync();
        await production;
        Assert.Empty(failed);

        await Eventually.AwaitAsync(() => consumed.Select(c => c.Result.Message.Value).Distinct().Count() >= acknowledged.Count ? null : $"consumed {consumed.Count} of {acknowledged.Count}",
            Deadline, "every acknowledged record is consumed");
        var records = consumed.Select(c => new ConsumedRecord("payments", c.Result.Partition.Value, c.Result.Offset.Value, c.Result.Message.Value)).ToList();
        output.WriteLine($"[spec] produced {acknowledged.Count}, consumed {records.Count} (a {consumed.Count(c => c.Member == "a")}, b {consumed.Count(c => c.Member == "b")})");
        BrokerHistoryChecker.Check([.. acknowledged], records).AssertValid();
    }

    [Theory]
    [InlineData("range")]
    [InlineData("cooperative-sticky")]
    public async Task Two_consumers_split_the_partitions_rebalance_when_one_leaves_and_consume_every_record_once(string assignor)
    {
        await using var cluster = await KafkaGrid.StartAsync(2, output.WriteLine);
        var bootstrap = KafkaGrid.Bootstrap(cluster[0], cluster[1]);
        await KafkaGrid.CreateTopicAsync(bootstrap, "orders", 4);

        var acknowledged = new ConcurrentQueue<ProducedRecord>();
        using var producer = new ProducerBuilder<string, string>(KafkaGrid.Producer(bootstrap)).Build();
        async Task ProduceAsync(int from, int count)
        {
            var sends = Enumerable.Range(from, count).Select(async i =>
            {
                var d = await producer.ProduceAsync("orders", new Message<string, string> { Key = $"k{i}", Value = $"order-{i}" });
                acknowledged.Enqueue(new ProducedRecord("orders", d.Partition.Value, d.Offset.Value, d.Message.Value));
            });
            await Task.WhenAll(sends);
        }

        await ProduceAsync(0, 200);
        var consumed = new ConcurrentQueue<(string Member, ConsumeResult<string, string> Result)>();
        ConsumerConfig Config(GridTestNode node)
        {
            var config = KafkaGrid.Consumer(KafkaGrid.Bootstrap(node), "billing");
            config.PartitionAssignmentStrategy = assignor == "range" ? PartitionAssignmentStrategy.Range : PartitionAssignmentStrategy.CooperativeSticky;
            return config;
        }

        using var a = new GroupMember("a", Config(cluster[0]), "orders", consumed, output.WriteLine);
        using var b = new GroupMember("b", Config(cluster[1]), "orders", consumed, output.WriteLine);

        await Eventually.AwaitAsync(() =>
        {
            var (sa, sb) = (a.Assignment, b.Assignment);
            return sa.Count > 0 && sb.Count > 0 && sa.Concat(sb).Order().SequenceEqual([0, 1, 2, 3]) ? null : $"a has [{string.Join(",", sa)}], b has [{string.Join(",", sb)}]";
        }, Deadline, "the two consumers split the four partitions");

        await ProduceAsync(200, 200);
        await Eventually.AwaitAsync(() => consumed.Count >= 250 ? null : $"consumed {consumed.Count}", Deadline, "both consume");
        await a.LeaveAsync();
        await Eventually.AwaitAsync(() => b.Assignment.SequenceEqual([0, 1, 2, 3]) ? null : $"b has [{string.Join(",", b.Assignment)}]", Deadline,
            "the remaining consumer takes every partition after the other left");
        await ProduceAsync(400, 200);
        await Eventually.AwaitAsync(() => consumed.Count >= 600 ? null : $"consumed {consumed.Count} of 600", Deadline, "every record is consumed");

        var records = consumed.Select(c => new ConsumedRecord("orders", c.Result.Partition.Value, c.Result.Offset.Value, c.Result.Message.Value)).ToList();
        BrokerHistoryChecker.Check([.. acknowledged], records).AssertValid();
        Assert.Equal(600, records.Count);
        Assert.Contains(consumed, c => c.Member == "a");
        Assert.Contains(consumed, c => c.Member == "b");
    }
}
