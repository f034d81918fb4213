using ActorGrid.Benchmarks.Kv;
using ActorGrid.Benchmarks.Broker;
using ActorGrid.Benchmarks.Kafka;
using ActorGrid.Benchmarks.MapReduce;
using ActorGrid.Benchmarks.Redis;

// dotnet run -c Release --project tests/ActorGrid.Benchmarks -- <mode> [options]
var modes = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.OrdinalIgnoreCase)
{
    ["kv"] = KvBenchmark.RunAsync,
    ["kv-redis"] = KvRedisBenchmark.RunAsync,
    ["kv-metrics"] = KvMetricsOverheadBenchmark.RunAsync,
    ["kv-replica"] = KvReplicaReadBenchmark.RunAsync,
    ["broker"] = BrokerBenchmark.RunAsync,
    ["kafka"] = KafkaBenchmark.RunAsync,
    ["kafka-producer"] = KafkaProducerClient.RunAsync,
    ["mapreduce"] = MapReduceBenchmark.RunAsync,
    ["resp"] = RespBenchmark.RunAsync,
    ["floor"] = TransportFloorBenchmark.RunAsync,
};

if (args.Length == 0 || !modes.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: ActorGrid.Benchmarks <{string.Join("|", modes.Keys)}> [options]");
    return 2;
}

return await run(args[1..]);
