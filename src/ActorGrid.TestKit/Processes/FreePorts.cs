#nullable enable
using System.Net;
using System.Net.Sockets;

namespace ActorGrid.TestKit.Processes;

/// <summary>Free loopback TCP ports, found by letting the OS pick (bind to port 0).</summary>
public static class FreePorts
{
    /// <summary>
    /// <paramref name="count"/> distinct ports that were free a moment ago. All listeners are held until every port is
    /// picked, so one call never returns the same port twice.
    /// </summary>
    public static int[] Take(int count)
    {
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
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
}
