#nullable enable
using ActorGrid.MapReduce.Jobs;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Inputs;

/// <summary>
/// One kind of job input: how the coordinator splits it into map tasks, and how a worker reads one split. The
/// coordinator and workers know nothing else about where records come from.
/// </summary>
internal interface IJobInput
{
    /// <summary>Splits the job's input into map tasks, each with the node that holds its data when there is one.</summary>
    Task<IReadOnlyList<MapTaskPlan>> PlanAsync(JobSpec spec, CancellationToken cancellationToken);

    /// <summary>The records of one split, in batches.</summary>
    IAsyncEnumerable<IReadOnlyList<InputRecord>> ReadAsync(RunMapTask task, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="node"/> holds the split's data (reads it without a network hop).</summary>
    Task<bool> IsLocalAsync(InputSplit split, string node, CancellationToken cancellationToken);
}

/// <summary>Picks the <see cref="IJobInput"/> of a job.</summary>
internal static class JobInputs
{
    public static IJobInput For(InputSpec input, MapReduceServices services) => input.Kind switch
    {
        "text" => new TextInput(services.Settings),
        "kvPrefix" => new KvPrefixInput(
            services.KeyValue ?? throw new InvalidOperationException("kvPrefix input needs the kv role, which this grid does not run"),
            services.Settings),
        _ => new TopicInput(
            services.Topics ?? throw new InvalidOperationException("topic input needs the broker role, which this grid does not run"),
            services.Settings),
    };
}

/// <summary>Retries reads that fail while data moves between nodes (a partition owner crashed, a shard hands off).</summary>
internal static class InputRetry
{
    public static async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> read, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var giveUpAt = DateTime.UtcNow + deadline;
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await read(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (DateTime.UtcNow + delay >= giveUpAt)
                {
                    throw new InvalidOperationException($"reading the input failed for {deadline.TotalSeconds:0.#}s: {e.Message}", e);
                }
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 1000));
        }
    }
}
