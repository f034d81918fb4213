#nullable enable
using System.Collections.Concurrent;
using System.Diagnostics;

namespace ActorGrid.TestKit.Histories;

/// <summary>How an operation ended, from the client's point of view.</summary>
public enum Outcome
{
    /// <summary>The server acknowledged it: it took effect.</summary>
    Ok,

    /// <summary>The server refused it definitely (a 4xx such as a failed precondition): it did not take effect.</summary>
    Failed,

    /// <summary>No answer (timeout, connection lost, 503): it may or may not have taken effect.</summary>
    Unknown,
}

/// <summary>One operation of a history: what a client asked, what it was told, and when (monotonic ticks).</summary>
public sealed record Operation<TCall, TReply>(int Process, TCall Call, TReply? Reply, Outcome Outcome, long Invoked, long Completed)
{
    /// <summary>An unknown outcome can take effect at any time after invocation, so it never completes.</summary>
    public long EffectiveCompletion => Outcome == Outcome.Unknown ? long.MaxValue : Completed;
}

/// <summary>
/// A thread-safe record of what concurrent clients asked and were told, to be checked after a fault was injected.
/// </summary>
public sealed class History<TCall, TReply>
{
    private readonly ConcurrentQueue<Operation<TCall, TReply>> _operations = new();

    /// <summary>All recorded operations, in completion order.</summary>
    public IReadOnlyList<Operation<TCall, TReply>> Operations => _operations.ToList();

    /// <summary>Runs <paramref name="invoke"/> and records the call with its outcome and timing.</summary>
    /// <param name="process">The client (thread of control) making the call.</param>
    /// <param name="call">What was asked.</param>
    /// <param name="invoke">Performs the call; returns the reply and its outcome. Exceptions are recorded as <see cref="Outcome.Unknown"/>.</param>
    public async Task<Operation<TCall, TReply>> RecordAsync(int process, TCall call, Func<Task<(TReply? Reply, Outcome Outcome)>> invoke)
    {
        var invoked = Stopwatch.GetTimestamp();
        TReply? reply = default;
        Outcome outcome;
        try
        {
            (reply, outcome) = await invoke();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or TimeoutException or IOException)
        {
            outcome = Outcome.Unknown;
        }

        var operation = new Operation<TCall, TReply>(process, call, reply, outcome, invoked, Stopwatch.GetTimestamp());
        _operations.Enqueue(operation);
        return operation;
    }

    /// <summary>Adds an operation recorded elsewhere.</summary>
    public void Add(Operation<TCall, TReply> operation) => _operations.Enqueue(operation);
}
