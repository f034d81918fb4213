using ActorGrid.Entities;
using Akka.Actor;
using Akka.TestKit;
using Xunit.Abstractions;

namespace ActorGrid.Core.Tests;

public sealed class GridSupervisorSpec(ITestOutputHelper output) : Akka.TestKit.Xunit2.TestKit(output: output)
{
    /// <summary>Counts what it was told since it started; "boom" makes it fail.</summary>
    private sealed class Worker : ReceiveActor
    {
        public Worker()
        {
            var seen = 0;
            Receive<string>(m => m == "boom", _ => throw new InvalidOperationException("boom"));
            Receive<string>(m => m == "count", _ => Sender.Tell(seen));
            Receive<string>(_ => seen++);
        }
    }

    /// <summary>Stands in for the shard: stops a child that escalates, and reports it.</summary>
    private sealed class Parent : ReceiveActor
    {
        private readonly IActorRef _probe;

        public Parent(Props child, IActorRef probe)
        {
            _probe = probe;
            var supervisor = Context.Watch(Context.ActorOf(child, "supervisor"));
            Receive<Terminated>(_ => probe.Tell("supervisor stopped"));
            ReceiveAny(m => supervisor.Forward(m));
        }

        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
        {
            _probe.Tell(e);
            return Directive.Stop;
        });
    }

    private static readonly ChildSpec[] Children = [new("a", Props.Create(() => new Worker())), new("b", Props.Create(() => new Worker()))];

    private async Task<int> CountAsync(IActorRef supervisor, string child) =>
        await supervisor.Ask<int>(new GridSupervisor.ToChild(child, "count"), TimeSpan.FromSeconds(3));

    /// <summary>
    /// Messages already queued at a child when it fails die with it (as with Akka's BackoffSupervisor); ones sent
    /// during the backoff are held and delivered. So ask again until the restarted child answers.
    /// </summary>
    private async Task<int> CountAfterRestartAsync(IActorRef supervisor, string child)
    {
        var count = -1;
        await AwaitAssertAsync(async () =>
            count = await supervisor.Ask<int>(new GridSupervisor.ToChild(child, "count"), TimeSpan.FromMilliseconds(500)),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        return count;
    }

    [Fact]
    public async Task One_for_one_restarts_only_the_failed_child_after_a_backoff()
    {
        var supervisor = Sys.ActorOf(GridSupervisor.Props(SupervisorSpec.OneForOne(), Children));
        supervisor.Tell(new GridSupervisor.ToChild("a", "x"));
        supervisor.Tell(new GridSupervisor.ToChild("b", "x"));
        Assert.Equal(1, await CountAsync(supervisor, "b"));

        supervisor.Tell(new GridSupervisor.ToChild("a", "boom"));

        Assert.Equal(0, await CountAfterRestartAsync(supervisor, "a"));
        Assert.Equal(1, await CountAsync(supervisor, "b"));
    }

    [Fact]
    public async Task All_for_one_restarts_every_child_when_one_fails()
    {
        var supervisor = Sys.ActorOf(GridSupervisor.Props(SupervisorSpec.AllForOne(), Children));
        supervisor.Tell(new GridSupervisor.ToChild("a", "x"));
        supervisor.Tell(new GridSupervisor.ToChild("b", "x"));
        Assert.Equal(1, await CountAsync(supervisor, "b"));

        supervisor.Tell(new GridSupervisor.ToChild("a", "boom"));

        Assert.Equal(0, await CountAfterRestartAsync(supervisor, "a"));
        Assert.Equal(0, await CountAfterRestartAsync(supervisor, "b"));
    }

    [Fact]
    public async Task Exceeding_the_restart_intensity_fails_the_supervisor_to_its_parent()
    {
        var probe = CreateTestProbe();
        var spec = SupervisorSpec.OneForOne(maxRestarts: 2, within: TimeSpan.FromSeconds(30)) with { MinBackoff = TimeSpan.FromMilliseconds(10) };
        var parent = Sys.ActorOf(Props.Create(() => new Parent(GridSupervisor.Props(spec, Children), probe.Ref)));

        for (var i = 0; i < 2; i++)
        {
            parent.Tell(new GridSupervisor.ToChild("a", "boom"));
            // The restarted child answers: the supervisor is still within its intensity.
            Assert.Equal(0, await CountAfterRestartAsync(parent, "a"));
        }

        parent.Tell(new GridSupervisor.ToChild("a", "boom"));

        var escalated = await probe.ExpectMsgAsync<RestartIntensityExceededException>(TimeSpan.FromSeconds(5));
        Assert.Contains("exceed the intensity of 2", escalated.Message);
        await probe.ExpectMsgAsync("supervisor stopped", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Unknown_children_are_refused()
    {
        var supervisor = Sys.ActorOf(GridSupervisor.Props(SupervisorSpec.OneForOne(), Children));

        await Assert.ThrowsAsync<ArgumentException>(() => supervisor.Ask<int>(new GridSupervisor.ToChild("zz", "count"), TimeSpan.FromSeconds(3)));
    }
}
