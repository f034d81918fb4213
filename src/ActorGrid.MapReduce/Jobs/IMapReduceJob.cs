#nullable enable
namespace ActorGrid.MapReduce.Jobs;

/// <summary>
/// A job type the grid can run, registered by name on every node with
/// <c>grid.WithMapReduce(jobs =&gt; jobs.Add&lt;MyJob&gt;("my-job"))</c>. Implement <see cref="IMapReduceJob{TValue}"/>;
/// this non-generic part is what the registry and parameter validation see.
/// </summary>
/// <remarks>
/// A fresh instance is created for every task (and for validating a submitted job), so an instance may keep
/// per-task state (a compiled regex, say). Map, Combine and Reduce must be deterministic: a task may run more than
/// once (retries, speculative copies) and exactly one run's output is used.
/// </remarks>
public interface IMapReduceJob
{
    /// <summary>
    /// Reads and checks the job's <c>parameters</c>. Called when the job is submitted (a thrown
    /// <see cref="InvalidJobParametersException"/> becomes a 400 and nothing runs) and before every task.
    /// </summary>
    void Initialize(JobParameters parameters)
    {
    }
}

/// <summary>
/// A MapReduce job whose intermediate values are <typeparamref name="TValue"/> (serialized with System.Text.Json
/// between nodes). Intermediate and output keys are strings; the output is one string value per key.
/// </summary>
/// <typeparam name="TValue">The intermediate value type, e.g. <c>long</c> for counts.</typeparam>
public interface IMapReduceJob<TValue> : IMapReduceJob
{
    /// <summary>Maps one input record to any number of intermediate (key, value) pairs.</summary>
    void Map(InputRecord record, IMapOutput<TValue> output);

    /// <summary>
    /// Whether <see cref="Combine"/> may merge values of one key. Default true. Without a combiner every emitted
    /// value is shuffled and <see cref="Reduce"/> sees them all.
    /// </summary>
    bool HasCombiner => true;

    /// <summary>
    /// Merges two values of the same key into one. Must be associative and commutative: the grid applies it any
    /// number of times, on the map side after each emit and on the reduce side as map outputs arrive. It may modify
    /// and return <paramref name="left"/>, and must not keep <paramref name="right"/>.
    /// </summary>
    TValue Combine(TValue left, TValue right);

    /// <summary>
    /// The output value for <paramref name="key"/> from its values (one value when the job has a combiner), or
    /// null to write nothing for the key.
    /// </summary>
    string? Reduce(string key, IReadOnlyList<TValue> values);
}

/// <summary>Where <see cref="IMapReduceJob{TValue}.Map"/> writes its intermediate pairs and counters.</summary>
public interface IMapOutput<in TValue>
{
    /// <summary>Emits one intermediate pair.</summary>
    void Emit(string key, TValue value);

    /// <summary>
    /// Emits one intermediate pair whose key is given as characters; a key already seen in this task is not
    /// allocated again.
    /// </summary>
    void Emit(ReadOnlySpan<char> key, TValue value);

    /// <summary>Adds <paramref name="by"/> to the job counter <paramref name="name"/> (summed over accepted task attempts).</summary>
    void IncrementCounter(string name, long by = 1);
}

/// <summary>A job's <c>parameters</c> are missing or malformed; the message is shown to the user in a 400.</summary>
public sealed class InvalidJobParametersException(string message) : Exception(message);
