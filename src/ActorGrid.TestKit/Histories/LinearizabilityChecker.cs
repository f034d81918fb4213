#nullable enable
namespace ActorGrid.TestKit.Histories;

/// <summary>
/// Wing–Gong linearizability search (with Lowe's memoisation of visited (state, linearized-set) pairs) for short
/// histories of one object: is there a total order of the operations, consistent with real time, in which every
/// reply is what the sequential model would have answered? Operations with an unknown
/// outcome may take effect at any point after they were invoked, or never.
/// </summary>
public static class LinearizabilityChecker
{
    /// <summary>Search states (about 100 bytes each) after which a history counts as unchecked (a failure, never a pass).</summary>
    public const int MaxSearchStates = 2_000_000;

    /// <summary>Searches for a linearization; returns null when one exists, else why not.</summary>
    /// <param name="operations">One object's history (at most 62 operations).</param>
    /// <param name="initial">The object's state before the history.</param>
    /// <param name="step">The sequential model: given a state and an operation, whether the operation's recorded reply is legal, and the next state.</param>
    public static string? Check<TState, TCall, TReply>(
        IReadOnlyList<Operation<TCall, TReply>> operations,
        TState initial,
        Func<TState, Operation<TCall, TReply>, (bool Legal, TState Next)> step)
        where TState : notnull
    {
        // Definitely failed operations had no effect and returned nothing to check.
        var ops = operations.Where(o => o.Outcome != Outcome.Failed).OrderBy(o => o.Invoked).ToList();
        if (ops.Count > 62)
        {
            throw new ArgumentException($"History too long for an exhaustive search ({ops.Count} operations); check shorter per-key histories", nameof(operations));
        }

        var required = 0UL;
        for (var i = 0; i < ops.Count; i++)
        {
            if (ops[i].Outcome == Outcome.Ok)
            {
                required |= 1UL << i;
            }
        }

        var visited = new HashSet<(ulong, TState)>();
        var deepest = new List<int>();

        bool Search(ulong done, TState state, List<int> order)
        {
            if ((done & required) == required)
            {
                return true;
            }

            if (!visited.Add((done, state)))
            {
                return false;
            }

            if (visited.Count > MaxSearchStates)
            {
                throw new SearchTooLarge();
            }

            if (order.Count > deepest.Count)
            {
                deepest = [.. order];
            }

            // An operation can go next only if no pending operation completed before it was invoked.
            var horizon = long.MaxValue;
            for (var i = 0; i < ops.Count; i++)
            {
                if ((done & (1UL << i)) == 0)
                {
                    horizon = Math.Min(horizon, ops[i].EffectiveCompletion);
                }
            }

            for (var i = 0; i < ops.Count; i++)
            {
                if ((done & (1UL << i)) != 0 || ops[i].Invoked > horizon)
                {
                    continue;
                }

                var (legal, next) = step(state, ops[i]);
                if (!legal || (ops[i].Outcome == Outcome.Unknown && EqualityComparer<TState>.Default.Equals(next, state)))
                {
                    // An operation of unknown outcome that would not change the state (a read that timed out, a
                    // write the state makes a no-op) adds nothing here: leaving it out is as good (it may never have
                    // taken effect), and placing it anyway doubles the (state, linearized-set) pairs for each one.
                    continue;
                }

                order.Add(i);
                if (Search(done | (1UL << i), next, order))
                {
                    return true;
                }

                order.RemoveAt(order.Count - 1);
            }

            return false;
        }

        try
        {
            if (Search(0, initial, []))
            {
                return null;
            }
        }
        catch (SearchTooLarge)
        {
            // Not a verdict either way: fail loudly rather than run the machine out of memory.
            return $"no verdict: {ops.Count} operations ({ops.Count(o => o.Outcome == Outcome.Unknown)} of unknown outcome) took more than {MaxSearchStates:N0} search states";
        }

        var stuck = ops.Where((o, i) => o.Outcome == Outcome.Ok && !deepest.Contains(i)).Take(3)
            .Select(o => $"{o.Call} -> {o.Reply}");
        return $"no linearization of {ops.Count} operations; longest legal prefix has {deepest.Count}; cannot place: {string.Join("; ", stuck)}";
    }

    private sealed class SearchTooLarge : Exception;
}
