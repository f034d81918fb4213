#nullable enable
using System.CommandLine;
using System.Globalization;
using System.Text;
using ActorGrid.Client;
using Spectre.Console;

namespace ActorGrid.Cli.Commands;

/// <summary><c>actorgrid kv get|put|delete|scan</c>: the key-value store.</summary>
public static class KvCommands
{
    /// <summary>The <c>kv</c> command and its verbs.</summary>
    public static Command Create() => new("kv", "The key-value store: versioned keys, compare-and-set, TTL, prefix scans")
    {
        Get(),
        Put(),
        Delete(),
        Scan(),
    };

    private static Command Get()
    {
        var key = new Argument<string>("key") { Description = "The key (may contain '/')" };
        var replica = new Option<bool>("--replica") { Description = "Read this node's replica (faster, may be stale; prints how stale)" };
        var output = new Option<FileInfo?>("--out") { Description = "Write the value's bytes to this file instead of printing it as text", HelpName = "file" };
        var command = new Command("get", "Print a key's value (exit 3 when the key does not exist)") { key, replica, output };
        command.SetGridAction(async (grid, cancellationToken) =>
        {
            var name = grid.Get(key)!;
            var value = await grid.Client.Kv.GetAsync(name, grid.Get(replica) ? KvConsistency.Replica : KvConsistency.Strong, cancellationToken)
                        ?? throw new KeyNotFoundException($"key '{name}' does not exist");
            if (grid.Json)
            {
                grid.WriteJson(new { value.Key, value.Version, Value = value.AsString(), ValueBase64 = Convert.ToBase64String(value.Value), value.Staleness });
            }
            else if (grid.Get(output) is { } file)
            {
                await File.WriteAllBytesAsync(file.FullName, value.Value, cancellationToken);
                await grid.Error.WriteLineAsync($"{value.Value.Length} bytes of '{name}' (version {value.Version}) written to {file.FullName}");
            }
            else
            {
                await grid.Output.WriteLineAsync(value.AsString());
                if (value.Staleness is not null)
                {
                    await grid.Error.WriteLineAsync($"version {value.Version}, replica staleness {value.Staleness}");
                }
            }

            return 0;
        });
        return command;
    }

    private static Command Put()
    {
        var key = new Argument<string>("key") { Description = "The key (may contain '/')" };
        var value = new Argument<string?>("value") { Description = "The value as text; omit to read --file or standard input", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<FileInfo?>("--file") { Description = "Read the value's bytes from this file", HelpName = "file" };
        var ifVersion = new Option<long?>("--if-version") { Description = "Write only if the key is at this version (compare-and-set)", HelpName = "version" };
        var ifAbsent = new Option<bool>("--if-absent") { Description = "Write only if the key does not exist (create-only)" };
        var ttl = new Option<long?>("--ttl") { Description = "Expire the key this many seconds after the write", HelpName = "seconds" };
        var command = new Command("put", "Write a key; prints its new version") { key, value, file, ifVersion, ifAbsent, ttl };
        command.SetGridAction(async (grid, cancellationToken) =>
        {
            byte[] bytes;
            if (grid.Get(value) is { } text)
            {
                bytes = Encoding.UTF8.GetBytes(text);
            }
            else if (grid.Get(file) is { } path)
            {
                bytes = await File.ReadAllBytesAsync(path.FullName, cancellationToken);
            }
            else
            {
                using var stdin = Console.OpenStandardInput();
                using var buffer = new MemoryStream();
                await stdin.CopyToAsync(buffer, cancellationToken);
                bytes = buffer.ToArray();
            }

            var options = new KvPutOptions(grid.Get(ifVersion), grid.Get(ifAbsent), grid.Get(ttl) is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
            var result = await grid.Client.Kv.PutAsync(grid.Get(key)!, bytes, options, cancellationToken);
            if (grid.Json)
            {
                grid.WriteJson(result);
            }
            else
            {
                await grid.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{result.Key} version {result.Version}"));
            }

            return 0;
        });
        return command;
    }

    private static Command Delete()
    {
        var key = new Argument<string>("key") { Description = "The key (may contain '/')" };
        var ifVersion = new Option<long?>("--if-version") { Description = "Delete only if the key is at this version", HelpName = "version" };
        var command = new Command("delete", "Delete a key (exit 3 when it does not exist)") { key, ifVersion };
        command.SetGridAction(async (grid, cancellationToken) =>
        {
            var name = grid.Get(key)!;
            if (!await grid.Client.Kv.DeleteAsync(name, grid.Get(ifVersion), cancellationToken))
            {
                throw new KeyNotFoundException($"key '{name}' does not exist");
            }

            if (grid.Json)
            {
                grid.WriteJson(new { Key = name, Deleted = true });
            }
            else
            {
                await grid.Output.WriteLineAsync($"deleted {name}");
            }

            return 0;
        });
        return command;
    }

    private static Command Scan()
    {
        var prefix = new Argument<string?>("prefix") { Description = "Only keys starting with this", Arity = ArgumentArity.ZeroOrOne };
        var limit = new Option<int?>("--limit") { Description = "Keys per page (1-1000, default 100)", HelpName = "n" };
        var after = new Option<string?>("--after") { Description = "Start after this key (the 'next' of the previous page)", HelpName = "key" };
        var all = new Option<bool>("--all") { Description = "Follow 'next' until every matching key is listed" };
        var command = new Command("scan", "List keys with a prefix, in key order, across all partitions") { prefix, limit, after, all };
        command.SetGridAction(async (grid, cancellationToken) =>
        {
            var items = new List<KvItem>();
            var next = grid.Get(after);
            do
            {
                var page = await grid.Client.Kv.ScanAsync(grid.Get(prefix) ?? "", grid.Get(limit), next, cancellationToken);
                items.AddRange(page.Items);
                next = page.Next;
            }
            while (grid.Get(all) && next is not null);

            if (grid.Json)
            {
                grid.WriteJson(new { Items = items.Select(i => new { i.Key, i.Version, Value = Convert.ToBase64String(i.Value) }), Next = next });
                return 0;
            }

            var table = new Table().AddColumns("Key", "Version", "Value");
            table.Columns[1].RightAligned();
            foreach (var item in items)
            {
                table.AddRow(Markup.Escape(item.Key), item.Version.ToString(CultureInfo.InvariantCulture), Markup.Escape(Preview(item.Value)));
            }

            grid.Console.Write(table);
            grid.Console.WriteLine($"{items.Count} keys" + (next is null ? "" : $"; more after '{next}' (use --after or --all)"));
            return 0;
        });
        return command;
    }

    private static string Preview(byte[] value)
    {
        const int max = 60;
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(value);
        }
        catch (DecoderFallbackException)
        {
            return $"<{value.Length} bytes>";
        }

        text = text.ReplaceLineEndings(" ");
        return text.Length <= max ? text : text[..max] + "…";
    }
}
