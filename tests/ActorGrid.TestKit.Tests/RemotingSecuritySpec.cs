using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using ActorGrid.Configuration;
using ActorGrid.Security;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;
using Xunit.Abstractions;

namespace ActorGrid.TestKit.Tests;

/// <summary>
/// SPEC §11 between nodes: only peers with a certificate from the cluster CA get in, and nothing arriving over remoting
/// is deserialized by a serializer that resolves type names from the payload.
/// </summary>
public sealed class RemotingSecuritySpec(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Nodes_with_certificates_from_the_cluster_CA_join_and_a_node_with_a_certificate_from_another_CA_cannot()
    {
        var refused = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var kit = new GridTestClusterOptions
        {
            RemotingTls = true,
            Log = line =>
            {
                output.WriteLine(line);
                if (line.Contains("does not chain to the cluster CA", StringComparison.Ordinal))
                {
                    refused.TrySetResult(line);
                }
            },
        };
        await using var cluster = await GridTestCluster.StartAsync(2, _ => { }, kit);

        // An intruder with a well-formed certificate for localhost from its own CA, accepting any server certificate.
        var folder = Path.Combine(Path.GetTempPath(), "actorgrid-tests", "rogue-" + Guid.NewGuid().ToString("N")[..8]);
        var rogueTls = TestCertificateAuthority.Create("rogue", folder).Issue("rogue");
        var certificate = RemotingTls.LoadCertificate(rogueTls.Certificate!, rogueTls.PrivateKey, null, "Tls");
        var setup = new DotNettySslSetup(certificate, suppressValidation: true, requireMutualAuthentication: true);
        using var rogue = StartIntruder(cluster[0], enableSsl: true, setup);
        Cluster.Get(rogue).JoinSeedNodes([cluster[0].Address]);

        var line = await refused.Task.WaitAsync(Deadline);
        output.WriteLine("refused: " + line);
        Assert.Null(await IdentifyAsync(rogue, cluster[0]));
        Assert.All(cluster.Nodes, n => Assert.Equal(2, Cluster.Get(n.System).State.Members.Count));
        Assert.NotEqual(MemberStatus.Up, Cluster.Get(rogue).SelfMember.Status);
    }

    [Fact]
    public async Task The_remoting_port_of_a_TLS_node_refuses_plaintext_and_TLS_without_a_client_certificate()
    {
        await using var cluster = await GridTestCluster.StartAsync(1, _ => { }, new GridTestClusterOptions { RemotingTls = true, Log = output.WriteLine });
        var port = cluster[0].Address.Port!.Value;

        // A peer without TLS: Akka's plaintext association handshake (any bytes) gets the connection closed.
        using (var plain = new TcpClient())
        {
            await plain.ConnectAsync(IPAddress.Loopback, port);
            var stream = plain.GetStream();
            await stream.WriteAsync(new byte[] { 0, 0, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 });
            Assert.True(await IsClosedByPeerAsync(stream), "the TLS node kept a plaintext connection open");
        }

        // TLS that trusts the node but presents no certificate: mutual authentication refuses it.
        using (var anonymous = new TcpClient())
        {
            await anonymous.ConnectAsync(IPAddress.Loopback, port);
            await using var tls = new SslStream(anonymous.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
            var handshake = await Record.ExceptionAsync(() => tls.AuthenticateAsClientAsync("localhost").WaitAsync(Deadline));
            output.WriteLine($"handshake without a client certificate: {handshake?.GetType().Name ?? "completed"} {handshake?.Message}");
            Assert.True(handshake is not null || await IsClosedByPeerAsync(tls), "the TLS node accepted a client without a certificate");
        }
    }

    private static async Task<bool> IsClosedByPeerAsync(Stream stream)
    {
        var buffer = new byte[256];
        try
        {
            using var timeout = new CancellationTokenSource(Deadline);
            while (true)
            {
                if (await stream.ReadAsync(buffer, timeout.Token) == 0)
                {
                    return true;
                }
            }
        }
        catch (IOException)
        {
            return true;
        }
        catch (System.Security.Authentication.AuthenticationException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_Newtonsoft_typed_payload_from_a_peer_is_dropped_and_logged_never_instantiated()
    {
        var dropped = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var kit = new GridTestClusterOptions
        {
            RemotingTls = false,
            Log = line =>
            {
                output.WriteLine(line);
                if (line.Contains("payload for serializer id 1 ", StringComparison.Ordinal))
                {
                    dropped.TrySetResult(line);
                }
            },
        };
        await using var cluster = await GridTestCluster.StartAsync(1, _ => { }, kit);
        // A peer on Akka's defaults: System.Object is bound to Newtonsoft, which writes the type name into the payload.
        using var attacker = StartIntruder(cluster[0], enableSsl: false, setup: null);
        using var victim = StartIntruder(cluster[0], enableSsl: false, setup: null);

        var victimGot = new ConcurrentBag<string>();
        var gridGot = new ConcurrentBag<string>();
        victim.ActorOf(Props.Create(() => new Sink(victimGot)), "sink");
        cluster[0].System.ActorOf(Props.Create(() => new Sink(gridGot)), "sink");

        // One association each, so the string sent after the gadget arrives after it.
        Send(attacker, victim, Gadget.Armed("to-plain-akka"));
        Send(attacker, victim, "after");
        Send(attacker, cluster[0].System, Gadget.Armed("to-actorgrid"));
        Send(attacker, cluster[0].System, "after");

        // The control shows the payload runs the setter wherever Newtonsoft is reachable ...
        await Eventually.AwaitAsync(() => victimGot.Contains("String:after") ? null : "the plain system has not received the messages", Deadline, "the control delivery");
        Assert.Contains("to-plain-akka", Gadget.Touched);
        Assert.Contains(victimGot, m => m.StartsWith(nameof(Gadget), StringComparison.Ordinal));

        // ... while the ActorGrid node dropped and logged it, and delivered what came after.
        output.WriteLine("dropped: " + await dropped.Task.WaitAsync(Deadline));
        await Eventually.AwaitAsync(() => gridGot.Contains("String:after") ? null : "the grid node has not received the string", Deadline, "the delivery after the gadget");
        Assert.Equal(["String:after"], gridGot);
        Assert.DoesNotContain("to-actorgrid", Gadget.Touched);
    }

    private static void Send(ActorSystem from, ActorSystem to, object message)
    {
        var address = ((ExtendedActorSystem)to).Provider.DefaultAddress;
        from.ActorSelection($"{address}/user/sink").Tell(message);
    }

    private static async Task<IActorRef?> IdentifyAsync(ActorSystem from, GridTestNode to)
    {
        var address = to.Address;
        try
        {
            var identity = await from.ActorSelection($"{address}/system").Ask<ActorIdentity>(new Identify(1), TimeSpan.FromSeconds(5));
            return identity.Subject;
        }
        catch (AskTimeoutException)
        {
            return null;
        }
    }

    /// <summary>An actor system on Akka's defaults (Newtonsoft bound), named like the cluster so it may try to join.</summary>
    private static ActorSystem StartIntruder(GridTestNode node, bool enableSsl, DotNettySslSetup? setup)
    {
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.provider = cluster
            akka.loglevel = WARNING
            akka.stdout-loglevel = OFF
            akka.remote.dot-netty.tcp {
              hostname = 127.0.0.1
              port = 0
              enable-ssl = {{(enableSsl ? "on" : "off")}}
              # The kit's nodes run these adapters; their addresses carry them in the protocol.
              applied-adapters = [trttl, gremlin]
            }
            akka.cluster.shutdown-after-unsuccessful-join-seed-nodes = off
            """);
        var bootstrap = BootstrapSetup.Create().WithConfig(config);
        return ActorSystem.Create(node.Options.ClusterName, setup is null ? ActorSystemSetup.Create(bootstrap) : ActorSystemSetup.Create(bootstrap, setup));
    }

    private sealed class Sink : ReceiveActor
    {
        public Sink(ConcurrentBag<string> got) => ReceiveAny(m => got.Add(m.GetType().Name + (m is string text ? ":" + text : "")));
    }

    /// <summary>A type whose setter records that it ran: a stand-in for a deserialization gadget.</summary>
    public sealed class Gadget
    {
        public static readonly ConcurrentBag<string> Touched = [];

        private string _marker = "";

        public string Marker
        {
            get => _marker;
            set
            {
                _marker = value;
                Touched.Add(value);
            }
        }

        /// <summary>A gadget made without running the setter (only deserialization runs it).</summary>
        public static Gadget Armed(string marker) => new() { _marker = marker };
    }
}
