#nullable enable
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ActorGrid.TestKit.Processes;

/// <summary>
/// Free loopback TCP ports for processes a test starts, taken below the OS's ephemeral range.
/// </summary>
/// <remarks>
/// A port the OS hands out for <c>bind(0)</c> comes from the ephemeral range, the same range every outgoing
/// connection's source port is drawn from: between the moment it is picked and the moment the node binds it, a client
/// connecting anywhere (a load generator, an HTTP client, a peer's remoting) may take it, and the node fails with
/// "address already in use" (CI saw it). Ports below that range are never given to outgoing connections, so a port
/// picked there stays free unless another process binds it on purpose; picking at random keeps two test processes
/// that pick at once from meeting.
/// </remarks>
public static class FreePorts
{
    private const int Lowest = 10_000;
    private static readonly int Highest = EphemeralRangeStart() - 1;

    /// <summary>
    /// <paramref name="count"/> distinct ports that could be bound a moment ago. All are held until every port is
    /// picked, so one call never returns the same port twice.
    /// </summary>
    public static int[] Take(int count)
    {
        var listeners = new List<TcpListener>(count);
        try
        {
            while (listeners.Count < count)
            {
                var listener = new TcpListener(IPAddress.Loopback, Random.Shared.Next(Lowest, Highest + 1));
                try
                {
                    listener.Start();
                    listeners.Add(listener);
                }
                catch (SocketException)
                {
                    listener.Dispose(); // in use: pick another
                }
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    /// <summary>The first ephemeral port: Linux says it in <c>ip_local_port_range</c>; elsewhere IANA's 49152.</summary>
    private static int EphemeralRangeStart()
    {
        const string linuxRange = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(linuxRange)
            && int.TryParse(File.ReadAllText(linuxRange).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            && start > Lowest + 1_000)
        {
            return start;
        }

        return 49_152;
    }
}
