#nullable enable
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ActorGrid.Client;
using Spectre.Console;

namespace ActorGrid.Cli.Commands;

/// <summary><c>actorgrid job run|status|result|list|cancel</c>: MapReduce jobs.</summary>
public static class JobCommands
{
    /// <summary>The <c>job</c> command and its verbs.</summary>
    public static Command Create() =>
        new("job", "MapReduce jobs: run, follow, read results, cancel") { Run(), Status(), Result(), List(), Cancel() };

    private static Command Run()
    {
        var type = new Argument<string>("type") { Description = "Job type: wordcount, grep, count-by, sum-by, inverted-index, or one the cluster registers" };
        var text = new Option<string>("--text") { Description = "Inline input text (one record per line)" };
        var textFile = new Option<FileInfo>("--text-file") { Description = "Read the inline input text from a file", HelpName = "path" };
        var kvPrefix = new Option<string>("--kv-prefix") { Description = "Input: every KV key with this prefix", HelpName = "prefix" };
        var topic = new Option<string>("--topic") { Description = "Input: every message of this topic" };
        var output = new Option<string>("--output-prefix") { Description = "Also write the output to the KV store under this prefix", HelpName = "kv-prefix" };
        var reducers = new Option<int?>("--reducers") { Description = "Number of reduce partitions (server default when absent)", HelpName = "n" };
        var parameters = new Option<string[]>("--param")
        {
            Description = "A job parameter: key=value (a string) or key:=json (a JSON value); repeatable",
            HelpName = "key=value",
            AllowMultipleArgumentsPerToken = false,
        };
        var id = new Option<string>("--id") { Description = "Job id of your choosing (resubmitting the same job under it is idempotent)" };
        var wait = new Option<bool>("--wait") { Description = "Follow the job with a progress bar until it finishes; fail unless it completes" };
        var command = new Command("run", "Submit a job (exactly one of --text, --text-file, --kv-prefix, --topic)")
        {
            type, text, textFile, kvPrefix, topic, output, reducers, parameters, id, wait,
        };
        command.Validators.Add(result =>
        {
            var inputs = new Option[] { text, textFile, kvPrefix, topic }.Count(o => result.GetResult(o) is not null);
            if (inputs != 1)
            {
                result.AddError("give exactly one input: --text, --text-file, --kv-prefix or --topic");
            }
        });

        command.SetGridAction(async (grid, cancellationToken) =>
        {
            var file = grid.Get(textFile);
            var input = new JobInput(
                Text: file is not null ? await File.ReadAllTextAsync(file.FullName, cancellationToken) : grid.Get(text),
                KvPrefix: grid.Get(kvPrefix),
                Topic: grid.Get(topic));
            var request = new JobRequest(
                grid.Get(type)!,
                input,
                grid.Get(output) is { } prefix ? new JobOutput(prefix) : null,
                grid.Get(reducers),
                ParseParameters(grid.Get(parameters) ?? []),
                grid.Get(id));
            var jobId = await grid.Client.Jobs.SubmitAsync(request, cancellationToken);
            if (!grid.Get(wait))
            {
                if (grid.Json)
                {
                    grid.WriteJson(new { jobId });
                }
                else
                {
                    grid.Output.WriteLine(jobId);
                }

                return 0;
            }

            var status = grid.Json
                ? await grid.Client.Jobs.WaitAsync(jobId, cancellationToken: cancellationToken)
                : await FollowAsync(grid, jobId, cancellationToken);
            if (grid.Json)
            {
                grid.WriteJson(status);
            }
            else
            {
                WriteStatus(grid.Console, status);
            }

            if (status.State == "Completed")
            {
                return 0;
            }

            await grid.Error.WriteLineAsync($"error: job {jobId} {status.State.ToLowerInvariant()}{(status.Error is null ? "" : ": " + status.Error)}");
            return GridCli.Failed;
        });
        return command;
    }

    private static Command Status()
    {
        var id = new Argument<string>("id") { Description = "The job id" };
        var command = new Command("status", "A job's state, progress and counters") { id };
        command.SetGridAction(async (grid, cancellationToken) =>
        {
            var status = await grid.Client.Jobs.GetAsync(grid.Get(id)!, cancellationToken);
            if (grid.Json)
            {
                grid.WriteJson(status);
            }
            else
            {
                WriteStatus(grid.Console, status);
            }

            return 0;
        });
        return command;
    }

    private static Command Result()
    {
        var id = new Argument<string>("id") { Description = "The job id" };
        var limit = new Option<int?>("--limit") { Description = "Pairs per page (server default 100, at most 1000)", HelpName = "n" };
        var after = new Option<string>("--after") { Description = "Start after this key (the 'next' of the previous page)", HelpName = "key" };
        var all = new Option<bool>("--all") { Description = "Every pair, page after page" };
        var command = new Command("result", "A completed job's output, sorted by key") { id, limit, after, all };
        command.SetGridAction(async (grid, cancellationToken) =>
        {
            var jobId = grid.Get(id)!;
            if (grid.Get(all))
            {
                var items = new List<JobResultItem>();
                await foreach (var item in grid.Client.Jobs.ReadResultAsync(jobId, grid.Get(limit) ?? 1000, cancellationToken))
                {
                    items.Add(item);
                }

                WriteResult(grid, new JobResultPage(items, null));
                return 0;
            }

            WriteResult(grid, await grid.Client.Jobs.GetResultAsync(jobId, grid.Get(after), grid.Get(limit), cancellationToken));
            return 0;
        });
        return command;
    }

    private static Command List()
    {
        var limit = new Option<int?>("--limit") { Description = "How many of the newest jobs (server default 100)", HelpName = "n" };
        var command = new Command("list", "The most recently submitted jobs, newest first") { limit };
        command.SetGridAction(async (grid, cancellationToken) =>
        {
            var jobs = await grid.Client.Jobs.ListAsync(grid.Get(limit), cancellationToken);
            if (grid.Json)
            {
                grid.WriteJson(new { items = jobs });
                return 0;
            }

            if (jobs.Count == 0)
            {
                grid.Console.WriteLine("No jobs.");
                return 0;
            }

            var table = new Table().AddColumns("Job", "Type", "State", "Submitted", "Finished");
            foreach (var job in jobs)
            {
                table.AddRow(Markup.Escape(job.JobId), Markup.Escape(job.Type), StateMarkup(job.State), Time(job.SubmittedAt), job.FinishedAt is { } f ? Time(f) : "-");
            }

            grid.Console.Write(table);
            return 0;
        });
        return command;
    }

    private static Command Cancel()
    {
        var id = new Argument<string>("id") { Description = "The job id" };
        var command = new Command("cancel", "Cancel a running job") { id };
        command.SetGridAction(async (grid, cancellationToken) =>
        {
            var status = await grid.Client.Jobs.CancelAsync(grid.Get(id)!, cancellationToken);
            if (grid.Json)
            {
                grid.WriteJson(status);
            }
            else
            {
                grid.Output.WriteLine($"{status.JobId} {status.State}");
            }

            return 0;
        });
        return command;
    }

    /// <summary><c>key=value</c> is a string parameter, <c>key:=json</c> a JSON one (as in HTTPie).</summary>
    internal static JsonElement? ParseParameters(IReadOnlyList<string> parameters)
    {
        if (parameters.Count == 0)
        {
            return null;
        }

        var json = new JsonObject();
        foreach (var parameter in parameters)
        {
            var typed = parameter.IndexOf(":=", StringComparison.Ordinal);
            var plain = parameter.IndexOf('=', StringComparison.Ordinal);
            if (typed > 0 && typed < plain)
            {
                try
                {
                    json[parameter[..typed]] = JsonNode.Parse(parameter[(typed + 2)..]);
                }
                catch (JsonException e)
                {
                    throw new ArgumentException($"--param {parameter}: the value after ':=' is not JSON ({e.Message})");
                }
            }
            else if (plain > 0)
            {
                json[parameter[..plain]] = parameter[(plain + 1)..];
            }
            else
            {
                throw new ArgumentException($"--param {parameter}: expected key=value or key:=json");
            }
        }

        return JsonSerializer.SerializeToElement(json);
    }

    private static async Task<JobStatus> FollowAsync(GridInvocation grid, string jobId, CancellationToken cancellationToken)
    {
        grid.Console.WriteLine($"Job {jobId}");
        JobStatus? last = null;
        await grid.Console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var map = context.AddTask("map", maxValue: 1);
                var reduce = context.AddTask("reduce", maxValue: 1);
                while (true)
                {
                    last = await grid.Client.Jobs.GetAsync(jobId, cancellationToken);
                    Show(map, "map", last.Progress.MapTasks);
                    Show(reduce, "reduce", last.Progress.ReduceTasks);
                    if (last.IsFinished)
                    {
                        map.StopTask();
                        reduce.StopTask();
                        return;
                    }

                    context.Refresh();
                    await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
                }
            });
        return last!;
    }

    private static void Show(ProgressTask task, string phase, TaskProgress progress)
    {
        task.MaxValue = Math.Max(1, progress.Total);
        task.Value = progress.Completed;
        task.Description = string.Create(CultureInfo.InvariantCulture, $"{phase} {progress.Completed}/{progress.Total}");
    }

    private static void WriteStatus(IAnsiConsole console, JobStatus status)
    {
        console.MarkupLine($"Job {Markup.Escape(status.JobId)} ({Markup.Escape(status.Type)}): {StateMarkup(status.State)}");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Map tasks: {status.Progress.MapTasks.Completed}/{status.Progress.MapTasks.Total}   Reduce tasks: {status.Progress.ReduceTasks.Completed}/{status.Progress.ReduceTasks.Total}"));
        if (status.SubmittedAt is { } submitted)
        {
            var took = status.FinishedAt is { } finished ? $" (took {(finished - submitted).TotalSeconds:0.00}s)" : "";
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Submitted: {Time(submitted)}{took}"));
        }

        if (status.Output?.KvPrefix is { } prefix)
        {
            console.WriteLine($"Output: KV keys under '{prefix}'");
        }

        if (status.Error is not null)
        {
            console.MarkupLine($"[red]Error:[/] {Markup.Escape(status.Error)}");
        }

        if (status.Counters.Count > 0)
        {
            var table = new Table().AddColumns("Counter", "Value");
            table.Columns[1].RightAligned();
            foreach (var (name, value) in status.Counters.OrderBy(c => c.Key, StringComparer.Ordinal))
            {
                table.AddRow(Markup.Escape(name), value.ToString("N0", CultureInfo.InvariantCulture));
            }

            console.Write(table);
        }
    }

    private static void WriteResult(GridInvocation grid, JobResultPage page)
    {
        if (grid.Json)
        {
            grid.WriteJson(page);
            return;
        }

        var table = new Table().AddColumns("Key", "Value");
        foreach (var item in page.Items)
        {
            table.AddRow(Markup.Escape(item.Key), Markup.Escape(item.Value));
        }

        grid.Console.Write(table);
        grid.Console.WriteLine(page.Next is null ? $"{page.Items.Count} pairs" : $"{page.Items.Count} pairs; more after '{page.Next}' (--after)");
    }

    private static string StateMarkup(string state) => state switch
    {
        "Completed" => "[green]Completed[/]",
        "Failed" => "[red]Failed[/]",
        "Cancelled" => "[yellow]Cancelled[/]",
        _ => Markup.Escape(state),
    };

    private static string Time(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
