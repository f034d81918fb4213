#nullable enable
using ActorGrid.Configuration;

namespace ActorGrid.Hosting;

/// <summary>
/// The process-wide half of <see cref="ActorGridOptions.InlineIo"/>, for the node executable: socket completions run on
/// the socket engine's threads. The front doors' inline scheduling (the other half) only pays with it: either alone
/// still hands every request to the thread pool once (docs/benchmarks.md, "Inline socket I/O").
/// </summary>
public static class InlineIo
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Turns inline socket completions on for this process. Call it before the process opens its first socket: the
    /// runtime reads the variable once, when its socket engine starts. An environment that sets the variable keeps its value.
    /// </summary>
    public static void EnableSocketCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }
    }
}
