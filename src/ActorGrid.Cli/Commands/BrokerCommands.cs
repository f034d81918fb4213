#nullable enable
using System.CommandLine;
using System.Text.Json;
using ActorGrid.Client;
using Spectre.Console;

namespace ActorGrid.Cli.Commands;

/// <summary><c>actorgrid topic create|list|describe|delete</c>, <c>actorgrid produce</c> and <c>actorgrid consume --group</c>.</summary>
public static class BrokerCommands
{
    private static readonly JsonSerializerOptions Line = new(JsonSerializerDefaults.Web);

    /// <summary>The broker's root commands.</summary>
    public static IReadOnlyList<Command> Create() => [Topic(), Produce(), Consume()];

    private static Command Topic()
    {
        var name = new Argument<string>("topic") { Description = "Topic name ([A-Za-z0-9._-], 1-200 characters)" };
        var partitions = new Option<int>("--partitions", "-p") { Description = "Number of partitions (fixed for the topic's life)", Required = true };
        var retentionMessages = new Option<long?>("--retention-messages") { Description = "Keep at most this many records per partition" };
        var retentionSeconds = new Option<long?>("--retention-seconds") { Description = "Keep records at most this many seconds" };
        var create = new Command("create", "Create a topic (succeeds unchanged if it exists with the same settings)") { name, partitions, retentionMessages, retentionSeconds };
        create.SetGridAction(async (grid, ct) =>
        {
            var result = await grid.Client.Broker.CreateTopicAsync(
                grid.Get(name)!, grid.Get(partitions), grid.Get(retentionMessages), grid.Get(retentionSeconds), ct);
            if (grid.Json)
            {
                grid.WriteJson(result);
            }
            else
            {
                grid.Output.WriteLine(result.Created
                    ? $"created topic {result.Topic.Name} with {result.Topic.PartitionCount} partitions"
                    : $"topic {result.Topic.Name} already exists with the same settings");
            }

            return 0;
        });

        var list = new Command("list", "Every topic with its partition count, retention and record count");
        list.SetGridAction(async (grid, ct) =>
        {
            var topics = await grid.Client.Broker.ListTopicsAsync(ct);
            if (grid.Json)
            {
                grid.WriteJson(new { topics });
                return 0;
            }

            var table = new Table().AddColumns("Topic", "Partitions", "Retention", "Records");
            table.Columns[1].RightAligned();
            table.Columns[3].RightAligned();
            foreach (var topic in topics)
            {
                table.AddRow(Markup.Escape(topic.Name), GridCli.Number(topic.PartitionCount), Markup.Escape(Retention(topic)),
                    GridCli.Number(topic.Partitions.Sum(p => p.EndOffset - p.StartOffset)));
            }

            grid.Console.Write(table);
            return 0;
        });

        var describeName = new Argument<string>("topic") { Description = "Topic name" };
        var describe = new Command("describe", "A topic's partitions with their start and end offsets") { describeName };
        describe.SetGridAction(async (grid, ct) =>
        {
            var topic = await grid.Client.Broker.GetTopicAsync(grid.Get(describeName)!, ct);
            if (grid.Json)
            {
                grid.WriteJson(topic);
                return 0;
            }

            grid.Output.WriteLine($"Topic: {topic.Name}   Partitions: {topic.PartitionCount}   Retention: {Retention(topic)}");
            var table = new Table().AddColumns("Partition", "Start offset", "End offset", "Records");
            foreach (var column in table.Columns)
            {
                column.RightAligned();
            }

            foreach (var p in topic.Partitions)
            {
                table.AddRow(GridCli.Number(p.Partition), GridCli.Number(p.StartOffset), GridCli.Number(p.EndOffset), GridCli.Number(p.EndOffset - p.StartOffset));
            }

            grid.Console.Write(table);
            return 0;
        });

        var deleteName = new Argument<string>("topic") { Description = "Topic name" };
        var delete = new Command("delete", "Delete a topic and its records (exit 3 when it does not exist)") { deleteName };
        delete.SetGridAction(async (grid, ct) =>
        {
            var topic = grid.Get(deleteName)!;
            await grid.Client.Broker.DeleteTopicAsync(topic, ct);
            if (grid.Json)
            {
                grid.WriteJson(new { Topic = topic, Deleted = true });
            }
            else
            {
                await grid.Output.WriteLineAsync($"deleted topic {topic}");
            }

            return 0;
        });

        return new Command("topic", "Create, list, describe and delete topics") { create, list, describe, delete };
    }

    private static Command Produce()
    {
        var topic = new Argument<string>("topic") { Description = "Topic to append to" };
        var values = new Argument<string[]>("values") { Description = "Record values; none: one record per line of standard input", Arity = ArgumentArity.ZeroOrMore };
        var key = new Option<string?>("--key", "-k") { Description = "Key of every record (same key, same partition)" };
        var producerId = new Option<string?>("--producer-id") { Description = "Idempotent producer id: a retried call with the same id and sequence appends nothing" };
        var sequence = new Option<long?>("--sequence") { Description = "Sequence of the first record (with --producer-id)" };
        var command = new Command("produce", "Append records to a topic; prints where each went once it is durable") { topic, values, key, producerId, sequence };
        command.SetGridAction(async (grid, ct) =>
        {
            var texts = grid.Get(values) is { Length: > 0 } given ? given : await ReadLinesAsync(Console.In, ct);
            if (texts.Count == 0)
            {
                await grid.Error.WriteLineAsync("error: nothing to produce (give values or pipe lines on standard input)");
                return GridCli.Failed;
            }

            var id = grid.Get(producerId);
            var first = grid.Get(sequence) ?? (id is null ? null : 0);
            var positions = await grid.Client.Broker.ProduceAsync(
                grid.Get(topic)!, texts.Select(t => ProducerRecord.Text(grid.Get(key), t)), id, first, ct);
            if (grid.Json)
            {
                grid.WriteJson(positions);
            }
            else
            {
                foreach (var p in positions)
                {
                    grid.Output.WriteLine($"{grid.Get(topic)}/{p.Partition}/{p.Offset}");
                }
            }

            return 0;
        });
        return command;
    }

    private static Command Consume()
    {
        var topics = new Argument<string[]>("topics") { Description = "Topics to consume", Arity = ArgumentArity.OneOrMore };
        var group = new Option<string>("--group", "-g") { Description = "Consumer group (offsets are committed for it)", Required = true };
        var max = new Option<int?>("--max-records", "-n") { Description = "Stop after this many records" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep waiting for new records (until Ctrl-C or --max-records)" };
        var noCommit = new Option<bool>("--no-commit") { Description = "Do not commit offsets (peek)" };
        var command = new Command("consume", "Read records as a member of a consumer group from its committed offsets; commits as it goes and leaves at the end")
        {
            topics, group, max, follow, noCommit,
        };
        command.SetGridAction(async (grid, ct) =>
        {
            var broker = grid.Client.Broker;
            var groupName = grid.Get(group)!;
            var limit = grid.Get(max) ?? int.MaxValue;
            var member = await broker.JoinGroupAsync(groupName, grid.Get(topics)!, cancellationToken: ct);
            var seen = 0;
            try
            {
                while (seen < limit)
                {
                    var poll = await broker.PollAsync(groupName, member.MemberId, Math.Min(500, limit - seen), waitMs: 2000, ct);
                    if (poll.Records.Count == 0 && !grid.Get(follow))
                    {
                        break;
                    }

                    var records = poll.Records.Take(limit - seen).ToList();
                    foreach (var r in records)
                    {
                        grid.Output.WriteLine(grid.Json
                            ? JsonSerializer.Serialize(r, Line)
                            : $"{r.Topic}/{r.Partition}/{r.Offset}\t{r.Key}\t{r.Value ?? "base64:" + r.ValueBase64}");
                    }

                    seen += records.Count;
                    if (records.Count > 0 && !grid.Get(noCommit))
                    {
                        await broker.CommitAsync(groupName, member.MemberId, records, ct);
                    }
                }
            }
            finally
            {
                using var leave = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await broker.LeaveGroupAsync(groupName, member.MemberId, leave.Token);
                }
                catch (Exception e) when (e is ActorGridException or HttpRequestException or OperationCanceledException)
                {
                    // The session timeout removes the member anyway.
                }
            }

            if (!grid.Json)
            {
                await grid.Error.WriteLineAsync($"{seen} record(s) consumed by group {groupName}");
            }

            return 0;
        });
        return command;
    }

    private static async Task<IReadOnlyList<string>> ReadLinesAsync(TextReader input, CancellationToken ct)
    {
        var lines = new List<string>();
        while (await input.ReadLineAsync(ct) is { } line)
        {
            if (line.Length > 0)
            {
                lines.Add(line);
            }
        }

        return lines;
    }

    private static string Retention(TopicInfo topic) =>
        (topic.RetentionMessages, topic.RetentionSeconds) switch
        {
            (null, null) => "unlimited",
            ({ } m, null) => $"{m} records",
            (null, { } s) => $"{s} s",
            ({ } m, { } s) => $"{m} records, {s} s",
        };
}
