#nullable enable
using ActorGrid.Configuration;
using Microsoft.AspNetCore.Hosting;

namespace ActorGrid.Hosting;

/// <summary>
/// <see cref="ActorGridOptions.InlineIo"/>: socket completions on the socket engine's threads and Kestrel's connections
/// on them too. Both halves, since either alone still hands every request to the thread pool once
/// (docs/benchmarks.md, "Inline socket I/O").
/// </summary>
public static class InlineIo
{
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Turns inline I/O on for this process and <paramref name="webHost"/>'s Kestrel. Call it before the process opens
    /// its first socket: the runtime reads the variable once, when its socket engine starts. An environment that sets
    /// the variable itself keeps its value.
    /// </summary>
    public static void Apply(IWebHostBuilder webHost)
    {
        if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletions, "1");
        }

        webHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
    }
}
