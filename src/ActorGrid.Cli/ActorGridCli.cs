#nullable enable
using System.CommandLine;
using System.CommandLine.Invocation;
using ActorGrid.Cli.Commands;

namespace ActorGrid.Cli;

/// <summary>The <c>actorgrid</c> command tree.</summary>
public static class ActorGridCli
{
    /// <summary>The root command with the global options and every area's verbs.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("actorgrid — talk to an ActorGrid cluster through any node's HTTP API").AddGlobalOptions();
        root.Subcommands.Add(ClusterCommands.Create());
        root.Subcommands.Add(KvCommands.Create());
        foreach (var command in BrokerCommands.Create())
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(GroupCommands.Create());
        root.Subcommands.Add(JobCommands.Create());
        return root;
    }

    /// <summary>Parses <paramref name="args"/> and runs the chosen verb; returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args, InvocationConfiguration? configuration = null, CancellationToken cancellationToken = default)
    {
        var parseResult = Create().Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            // A usage mistake is one line too; --help is there for the rest.
            (configuration?.Error ?? Console.Error).WriteLine($"error: {parseResult.Errors[0].Message.ReplaceLineEndings(" ")} (see --help)");
            return Task.FromResult(GridCli.Usage);
        }

        return parseResult.InvokeAsync(configuration, cancellationToken);
    }
}
