using ActorGrid.Core.Tests.Counter;
using ActorGrid.Grid;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Event;
using Xunit.Abstractions;

namespace ActorGrid.Core.Tests;

/// <summary>
/// A request dropped before it reaches its entity (as a shard region drops the requests it holds for a shard whose
/// hand-off begins) fails its ask at once, on the node that asked, instead of after the ask timeout.
/// </summary>
public sealed class DroppedRequestsSpec(ITestOutputHelper output)
{
    // Far longer than the spec takes: an ask that is not answered fails with a plain AskTimeoutException, not this one.
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task An_ask_whose_request_was_dropped_fails_at_once_with_a_retriable_error_on_its_own_node_and_on_another()
    {
        await using var cluster = await GridTestCluster.StartAsync(2, grid => grid.AddRole(new CounterRole()), new GridTestClusterOptions { Log = output.WriteLine });
        var dropper = cluster[1].System.ActorOf(Props.Create(() => new Dropper()), "dropper");
        var remoteDropper = cluster[0].System.ActorSelection(new RootActorPath(cluster[1].Address) / "user" / "dropper");

        // Asked on the node that dropped it, typed and untyped.
        var local = await Assert.ThrowsAsync<RequestDroppedException>(() =>
            dropper.Ask<CounterProtocol.CountReply>(new CounterProtocol.GetCount("a"), AskTimeout));
        Assert.Contains(Dropper.Reason, local.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RequestDroppedException>(() =>
            dropper.AskAnyAsync(new CounterProtocol.GetCount("b"), AskTimeout, CancellationToken.None));

        // Asked from another node: the dropping node's responder tells the asker's.
        await Assert.ThrowsAsync<RequestDroppedException>(() =>
            remoteDropper.Ask<CounterProtocol.CountReply>(new CounterProtocol.GetCount("c"), AskTimeout));
        await Assert.ThrowsAsync<RequestDroppedException>(() =>
            remoteDropper.AskAnyAsync(new CounterProtocol.Increment("d", 1), AskTimeout, CancellationToken.None));

        // A timeout is what the front doors already answer with a retriable error.
        Assert.IsAssignableFrom<AskTimeoutException>(local);
    }

    /// <summary>Drops every message as a shard region drops its buffered ones at a hand-off: to dead letters, with its sender.</summary>
    private sealed class Dropper : ReceiveActor
    {
        // Akka.NET's own reason for it.
        public const string Reason = "Avoiding reordering of buffered messages at shard handoff";

        public Dropper() => ReceiveAny(message => Context.System.DeadLetters.Tell(new Dropped(message, Reason, Sender, Self)));
    }
}
