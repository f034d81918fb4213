using System.Diagnostics;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;
using Xunit.Abstractions;

namespace ActorGrid.Resp.Tests;

/// <summary>
/// The real <c>redis-cli</c> (Debian's redis-tools) against a real node process: a scripted session with strings,
/// a MULTI/EXEC, streams with a consumer group, errors, RESP3, and a blocking XREAD woken by an XADD.
/// </summary>
public sealed partial class RedisCliSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private NodeProcess _node = null!;

    public async Task InitializeAsync()
    {
        _node = NodeProcess.Start(new NodeProcessOptions { Name = "resp-node" });
        await _node.WaitUntilReadyAsync(TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task A_scripted_redis_cli_session_gets_redis_answers()
    {
        // The first write recovers a fresh partition from the journal: wait for the node to serve before the script.
        await Eventually.AwaitAsync(async () => (await CliAsync(["SET", "warm-up", "1"])).Output == "OK\n" ? null : "not serving yet",
            TimeSpan.FromSeconds(60), "the node to serve SET over RESP");

        var script = """
            PING
            SET greeting hello EX 100
            GET greeting
            TTL greeting
            INCR visits
            INCRBY visits 10
            SET greeting hola GET
            MULTI
            SET {cart}:items 3
            INCR {cart}:items
            GET {cart}:items
            EXEC
            MGET greeting visits missing
            XADD clicks * page home
            XADD clicks * page cart
            XLEN clicks
            XRANGE clicks - +
            XGROUP CREATE clicks web 0
            XREADGROUP GROUP web c1 COUNT 1 STREAMS clicks >
            XPENDING clicks web
            XACK clicks web 1-0
            DEL greeting
            GET greeting
            INCR {cart}:nope:
            LPUSH list x
            """;
        var (raw, exit) = await CliAsync(["--no-raw"], script);
        output.WriteLine(raw);

        // redis-cli notes slow replies ("(0.53s)"); a loaded machine decides which, so they are left out.
        var transcript = string.Join("\n", raw.Split('\n').Where(line => !SlowReply().IsMatch(line)));
        Assert.Equal(0, exit);
        Assert.Equal("""
            PONG
            OK
            "hello"
            (integer) 100
            (integer) 1
            (integer) 11
            "hello"
            OK
            QUEUED
            QUEUED
            QUEUED
            1) OK
            2) (integer) 4
            3) "4"
            1) "hola"
            2) "11"
            3) (nil)
            "1-0"
            "2-0"
            (integer) 2
            1) 1) "1-0"
               2) 1) "page"
                  2) "home"
            2) 1) "2-0"
               2) 1) "page"
                  2) "cart"
            OK
            1) 1) "clicks"
               2) 1) 1) "1-0"
                     2) 1) "page"
                        2) "home"
            1) (integer) 1
            2) "1-0"
            3) "1-0"
            4) 1) 1) "c1"
                  2) "1"
            (integer) 1
            (integer) 1
            (nil)
            (integer) 1
            (error) ERR unknown command 'LPUSH', with args beginning with: 'list' 'x' 

            """.ReplaceLineEndings("\n"), transcript);
    }

    [Fact]
    public async Task A_blocking_XREAD_wakes_up_when_an_entry_is_added()
    {
        await Eventually.AwaitAsync(async () => (await CliAsync(["XADD", "live", "*", "boot", "1"])).Output == "1-0\n" ? null : "not serving yet",
            TimeSpan.FromSeconds(60), "the node to serve XADD over RESP");

        var blocked = CliAsync(["XREAD", "BLOCK", "30000", "STREAMS", "live", "$"]);
        await Eventually.AwaitAsync(async () => (await CliAsync(["CLIENT", "LIST"])).Output.Contains("cmd=xread", StringComparison.Ordinal) ? null : "XREAD not blocking yet",
            TimeSpan.FromSeconds(30), "redis-cli to block in XREAD");
        Assert.False(blocked.IsCompleted);

        Assert.Equal("2-0\n", (await CliAsync(["XADD", "live", "*", "msg", "hi"])).Output);
        var (woken, exit) = await blocked.WaitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine(woken);
        Assert.Equal(0, exit);
        Assert.Equal("live\n2-0\nmsg\nhi\n", woken);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\(\d+\.\d+s\)$")]
    private static partial System.Text.RegularExpressions.Regex SlowReply();

    private async Task<(string Output, int Exit)> CliAsync(IReadOnlyList<string> args, string? stdin = null)
    {
        var start = new ProcessStartInfo("redis-cli")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-p");
        start.ArgumentList.Add(_node.RespPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("redis-cli did not start (install redis-tools)");
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin.ReplaceLineEndings("\n") + "\n");
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        var error = await stderr;
        if (error.Length > 0)
        {
            output.WriteLine("redis-cli stderr: " + error);
        }

        return (await stdout, process.ExitCode);
    }
}
