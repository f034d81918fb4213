#nullable enable
using System.CommandLine;
using System.Globalization;
using ActorGrid.Client;
using Spectre.Console;

namespace ActorGrid.Cli.Commands;

/// <summary><c>actorgrid cluster status|shards</c>: membership and shard placement.</summary>
public static class ClusterCommands
{
    /// <summary>The <c>cluster</c> command and its verbs.</summary>
    public static Command Create()
    {
        var status = new Command("status", "Members (address, status, roles), the leader and unreachable nodes");
        status.SetGridAction(async (grid, cancellationToken) =>
        {
            var cluster = await grid.Client.Cluster.GetStatusAsync(cancellationToken);
            if (grid.Json)
            {
                grid.WriteJson(cluster);
            }
            else
            {
                WriteStatus(grid.Console, cluster);
            }

            return 0;
        });

        var shards = new Command("shards", "Per role and entity type: each shard's node, entity count and recent load");
        shards.SetGridAction(async (grid, cancellationToken) =>
        {
            var placement = await grid.Client.Cluster.GetShardsAsync(cancellationToken);
            if (grid.Json)
            {
                grid.WriteJson(placement);
            }
            else
            {
                WriteShards(grid.Console, placement);
            }

            return 0;
        });

        return new Command("cluster", "Cluster membership and shard placement") { status, shards, Membership("leave"), Membership("down") };
    }

    private static Command Membership(string action)
    {
        var address = new Argument<string>("address") { Description = "The member's address, as cluster status lists it (akka.tcp://actorgrid@host:port)" };
        var command = new Command(action, action == "leave"
            ? "Make a member leave gracefully: its shards hand off first (admin scope)"
            : "Down a member that is gone for good: its shards move at once (admin scope)") { address };
        command.SetGridAction(async (grid, cancellationToken) =>
        {
            var member = grid.Get(address)!;
            await (action == "leave" ? grid.Client.Cluster.LeaveAsync(member, cancellationToken) : grid.Client.Cluster.DownAsync(member, cancellationToken));
            if (grid.Json)
            {
                grid.WriteJson(new { Address = member, Action = action });
            }
            else
            {
                await grid.Output.WriteLineAsync($"{member}: {action} requested");
            }

            return 0;
        });
        return command;
    }

    private static void WriteStatus(IAnsiConsole console, ClusterStatus cluster)
    {
        var unreachable = cluster.Unreachable.ToHashSet(StringComparer.Ordinal);
        var table = new Table().AddColumns("Address", "Status", "Reachable", "Roles", "");
        foreach (var member in cluster.Members.OrderBy(m => m.Address, StringComparer.Ordinal))
        {
            var notes = new List<string>(2);
            if (member.Address == cluster.Self)
            {
                notes.Add("self");
            }

            if (member.Address == cluster.Leader)
            {
                notes.Add("leader");
            }

            table.AddRow(
                Markup.Escape(member.Address),
                Markup.Escape(member.Status),
                unreachable.Contains(member.Address) ? "[red]no[/]" : "yes",
                Markup.Escape(member.Roles.Count == 0 ? "-" : string.Join(",", member.Roles.Order(StringComparer.Ordinal))),
                string.Join(", ", notes));
        }

        console.Write(table);
        var up = cluster.Members.Count(m => m.Status == "Up");
        console.WriteLine($"Leader: {cluster.Leader ?? "none"}");
        console.WriteLine($"Members: {cluster.Members.Count} ({up} Up)");
        console.WriteLine($"Unreachable: {(cluster.Unreachable.Count == 0 ? "none" : string.Join(", ", cluster.Unreachable))}");
    }

    private static void WriteShards(IAnsiConsole console, ShardsStatus placement)
    {
        if (placement.Regions.Count == 0)
        {
            console.WriteLine("No sharded roles on this cluster.");
            return;
        }

        foreach (var region in placement.Regions)
        {
            // KV partitions report what they store (SPEC §15); other roles' shards do not.
            var storage = region.Shards.Any(s => s.Keys is not null);
            var table = new Table { Title = new TableTitle(Markup.Escape($"{region.Role} / {region.TypeName}")) }
                .AddColumns("Shard", "Node", "Entities", "Load");
            if (storage)
            {
                table.AddColumns("Keys", "Tombstones", "Bytes");
            }

            for (var i = 2; i < table.Columns.Count; i++)
            {
                table.Columns[i].RightAligned();
            }

            foreach (var shard in region.Shards)
            {
                var cells = new List<string>
                {
                    Markup.Escape(shard.ShardId),
                    Markup.Escape(shard.Node),
                    GridCli.Number(shard.Entities),
                    shard.Load is { } load ? load.ToString("0.##", CultureInfo.InvariantCulture) : "-",
                };
                if (storage)
                {
                    cells.AddRange(new[] { shard.Keys, shard.Tombstones, shard.Bytes }.Select(n => n is { } v ? GridCli.Number(v) : "-"));
                }

                table.AddRow([.. cells]);
            }

            console.Write(table);

            // The hot-spot view: how evenly shards, entities and load are spread over nodes.
            foreach (var node in region.Shards.GroupBy(s => s.Node).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var load = node.Sum(s => s.Load ?? 0);
                console.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"  {node.Key}: {node.Count()} shards, {node.Sum(s => s.Entities)} entities, load {load:0.##}"));
            }
        }
    }
}
