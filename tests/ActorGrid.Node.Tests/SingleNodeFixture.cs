using ActorGrid.TestKit.Processes;

namespace ActorGrid.Node.Tests;

/// <summary>One running node process (a one-node cluster) shared by the tests of a class.</summary>
public sealed class SingleNodeFixture : IAsyncLifetime
{
    private NodeProcess? _node;

    /// <summary>The running, ready node.</summary>
    public NodeProcess Node => _node ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        _node = NodeProcess.Start(new NodeProcessOptions { Name = "single" });
        await _node.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }
}
