using System.Net;
using System.Net.Sockets;
using ActorGrid.TestKit.Processes;

namespace ActorGrid.TestKit.Tests;

/// <summary>Ports for test processes must stay free while outgoing connections come and go.</summary>
public sealed class FreePortsSpec
{
    [Fact]
    public void Ports_are_distinct_bindable_and_never_an_outgoing_connections_source_port()
    {
        var ports = FreePorts.Take(64);
        Assert.Equal(64, ports.Distinct().Count());

        // Open outgoing connections, as a load generator does: none may draw its source port from the picked ones.
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var clients = Enumerable.Range(0, 64).Select(_ => new TcpClient()).ToList();
        try
        {
            foreach (var client in clients)
            {
                client.Connect((IPEndPoint)server.LocalEndpoint);
            }

            var sourcePorts = clients.Select(c => ((IPEndPoint)c.Client.LocalEndPoint!).Port).ToHashSet();
            Assert.DoesNotContain(ports, sourcePorts.Contains);
            Assert.True(ports.Max() < sourcePorts.Min(), $"picked up to {ports.Max()}, source ports from {sourcePorts.Min()}");
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        foreach (var port in ports)
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }
    }
}
