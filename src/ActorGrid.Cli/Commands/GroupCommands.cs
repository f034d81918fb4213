#nullable enable
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using ActorGrid.Client;
using Spectre.Console;

namespace ActorGrid.Cli.Commands;

/// <summary><c>actorgrid group list|describe|reset-offsets|delete</c>: consumer groups (SPEC §15).</summary>
public static class GroupCommands
{
    /// <summary>The <c>group</c> command and its verbs.</summary>
    public static Command Create() =>
        new("group", "Consumer groups: members, committed offsets and lag; reset or delete a group's offsets")
        {
            List(), Describe(), ResetOffsets(), Delete(),
        };

    private static Command List()
    {
        var command = new Command("list", "Every consumer group with its generation, members, topics and total lag");
        command.SetGridAction(async (grid, ct) =>
        {
            var groups = await grid.Client.Broker.ListGroupsAsync(ct);
            if (grid.Json)
            {
                grid.WriteJson(new { groups });
                return 0;
            }

            if (groups.Count == 0)
            {
                grid.Console.WriteLine("No consumer groups.");
                return 0;
            }

            var table = new Table().AddColumns("Group", "Generation", "Members", "Topics", "Lag");
            table.Columns[1].RightAligned();
            table.Columns[2].RightAligned();
            table.Columns[4].RightAligned();
            foreach (var group in groups.OrderBy(g => g.Group, StringComparer.Ordinal))
            {
                table.AddRow(Markup.Escape(group.Group), GridCli.Number(group.Generation), GridCli.Number(group.Members.Count),
                    Markup.Escape(Topics(group)), GridCli.Number(group.TotalLag));
            }

            grid.Console.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Describe()
    {
        var name = GroupArgument();
        var command = new Command("describe", "A group's members with their partitions, and per partition the committed offset and lag") { name };
        command.SetGridAction(async (grid, ct) =>
        {
            var group = await grid.Client.Broker.GetGroupAsync(grid.Get(name)!, ct);
            if (grid.Json)
            {
                grid.WriteJson(group);
            }
            else
            {
                WriteGroup(grid.Console, group);
            }

            return 0;
        });
        return command;
    }

    private static Command ResetOffsets()
    {
        var name = GroupArgument();
        var to = new Option<string>("--to")
        {
            Description = "Where the group resumes: earliest (the partitions' start), latest (their end) or timestamp (the first record at or after --timestamp)",
            HelpName = "earliest|latest|timestamp",
            Required = true,
        };
        to.AcceptOnlyFromAmong("earliest", "latest", "timestamp");
        var timestamp = new Option<DateTimeOffset?>("--timestamp")
        {
            Description = "With --to timestamp: an ISO 8601 time (2026-12-01T18:00:00Z) or Unix milliseconds",
            HelpName = "time",
            CustomParser = ParseTimestamp,
        };
        var command = new Command("reset-offsets", "Move a group's committed offsets on every partition it has committed for (the group must have no live members)")
        {
            name, to, timestamp,
        };
        command.Validators.Add(result =>
        {
            var byTime = result.GetValue(to) == "timestamp";
            var hasTime = result.GetResult(timestamp) is not null;
            if (byTime != hasTime)
            {
                result.AddError(byTime ? "--to timestamp needs --timestamp" : "--timestamp goes with --to timestamp");
            }
        });
        command.SetGridAction(async (grid, ct) =>
        {
            var groupName = grid.Get(name)!;
            var group = await grid.Client.Broker.ResetGroupOffsetsAsync(groupName, grid.Get(to)!, grid.Get(timestamp), ct);
            if (grid.Json)
            {
                grid.WriteJson(group);
            }
            else
            {
                grid.Console.WriteLine($"reset the offsets of group {groupName} to {grid.Get(to)}");
                WriteOffsets(grid.Console, group);
            }

            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var name = GroupArgument();
        var command = new Command("delete", "Delete a group and its committed offsets (the group must have no live members)") { name };
        command.SetGridAction(async (grid, ct) =>
        {
            var groupName = grid.Get(name)!;
            await grid.Client.Broker.DeleteGroupAsync(groupName, ct);
            if (grid.Json)
            {
                grid.WriteJson(new { Group = groupName, Deleted = true });
            }
            else
            {
                await grid.Output.WriteLineAsync($"deleted group {groupName}");
            }

            return 0;
        });
        return command;
    }

    private static Argument<string> GroupArgument() => new("group") { Description = "Consumer group name" };

    private static DateTimeOffset? ParseTimestamp(ArgumentResult result)
    {
        var text = result.Tokens[^1].Value;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            return DateTimeOffset.FromUnixTimeMilliseconds(ms);
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        result.AddError($"--timestamp must be an ISO 8601 time or Unix milliseconds (got '{text}')");
        return null;
    }

    private static void WriteGroup(IAnsiConsole console, GroupInfo group)
    {
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Group: {group.Group}   Generation: {group.Generation}   Members: {group.Members.Count}   Lag: {group.TotalLag}"));
        if (group.Members.Count > 0)
        {
            var members = new Table().AddColumns("Member", "Topics", "Partitions", "Idle");
            members.Columns[3].RightAligned();
            foreach (var member in group.Members.OrderBy(m => m.MemberId, StringComparer.Ordinal))
            {
                members.AddRow(
                    Markup.Escape(member.MemberId),
                    Markup.Escape(string.Join(",", member.Topics)),
                    Markup.Escape(string.Join(" ", member.Assignments.Select(a => $"{a.Topic}/{a.Partition}"))),
                    string.Create(CultureInfo.InvariantCulture, $"{member.IdleMs} ms"));
            }

            console.Write(members);
        }

        WriteOffsets(console, group);
    }

    private static void WriteOffsets(IAnsiConsole console, GroupInfo group)
    {
        var table = new Table().AddColumns("Topic", "Partition", "Committed", "Start offset", "End offset", "Lag");
        for (var i = 1; i < table.Columns.Count; i++)
        {
            table.Columns[i].RightAligned();
        }

        foreach (var p in group.Offsets.OrderBy(o => o.Topic, StringComparer.Ordinal).ThenBy(o => o.Partition))
        {
            table.AddRow(Markup.Escape(p.Topic), GridCli.Number(p.Partition), p.Committed is { } c ? GridCli.Number(c) : "-",
                GridCli.Number(p.StartOffset), GridCli.Number(p.EndOffset), GridCli.Number(p.Lag));
        }

        console.Write(table);
    }

    private static string Topics(GroupInfo group)
    {
        var topics = group.Offsets.Select(o => o.Topic).Concat(group.Members.SelectMany(m => m.Topics)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return topics.Count == 0 ? "-" : string.Join(",", topics);
    }
}
