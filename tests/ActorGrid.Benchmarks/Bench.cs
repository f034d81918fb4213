using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;

namespace ActorGrid.Benchmarks;

/// <summary>What every benchmark mode shares: its command-line options and the median it compares rounds by.</summary>
internal static class Bench
{
    /// <summary>The integer after <paramref name="name"/>, or <paramref name="fallback"/>.</summary>
    public static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>The text after <paramref name="name"/>, or null.</summary>
    public static string? TextOption(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>
    /// HOCON for the journal options given on the command line (<c>--journal-batch-size</c>, <c>--journal-parallelism</c>,
    /// <c>--journal-row-by-row</c>, <c>--journal-round-trip</c>), printed when any is given; empty when none is.
    /// </summary>
    public static string JournalTuning(string[] args)
    {
        var tuning = string.Join("\n", new[]
            {
                ("batch-size", Option(args, "--journal-batch-size", 0)),
                ("parallelism", Option(args, "--journal-parallelism", 0)),
                ("max-row-by-row-size", Option(args, "--journal-row-by-row", 0)),
                ("db-round-trip-max-batch-size", Option(args, "--journal-round-trip", 0)),
            }
            .Where(t => t.Item2 > 0).Select(t => $"akka.persistence.journal.sql.{t.Item1} = {t.Item2}"));
        if (tuning.Length > 0)
        {
            Console.WriteLine("journal tuning: " + tuning.Replace("\n", ", ", StringComparison.Ordinal));
        }

        return tuning;
    }

    /// <summary>Whether every one of <paramref name="tools"/> is on PATH; prints the first missing one with <paramref name="usage"/> if not.</summary>
    public static bool ToolsInstalled(string usage, params string[] tools)
    {
        foreach (var tool in tools)
        {
            if (Redis.RedisServerProcess.ExecutableOnPath(tool) is null)
            {
                Console.Error.WriteLine($"{tool} is not installed (tests/ActorGrid.Benchmarks/setup.sh). Usage: {usage}");
                return false;
            }
        }

        return true;
    }

    /// <summary>The CPU time this process has used so far (a benchmark hosting the node in-process: the node's CPU).</summary>
    public static TimeSpan SelfCpu() => Process.GetCurrentProcess().TotalProcessorTime;

    /// <summary>The median (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>
    /// Runs <paramref name="load"/> until the node's JIT is quiet: on 2 cores tiered compilation goes on re-compiling hot
    /// methods (~27,000 compilations, ~0.5 s of JIT per second under load) for the first ~100,000 writes, so rounds
    /// measured after a short warm-up time the JIT as much as the node. Quiet = under 2 % of a core spent in the JIT
    /// (<c>dotnet_jit_compilation_time_seconds_total</c> on the node's <c>/metrics</c>) during one pass, or <paramref name="max"/>.
    /// </summary>
    public static async Task WarmUntilJitQuietAsync(Uri node, string? token, Action load, TimeSpan max)
    {
        using var http = new HttpClient { BaseAddress = node };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        var warming = Stopwatch.StartNew();
        var before = await JitSecondsAsync(http);
        while (true)
        {
            var pass = Stopwatch.StartNew();
            load();
            var after = await JitSecondsAsync(http);
            var share = (after - before) / pass.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  warm-up {warming.Elapsed.TotalSeconds:0} s: the node's JIT took {share:P1} of a core"));
            if (share < 0.02 || warming.Elapsed > max)
            {
                return;
            }

            before = after;
        }
    }

    private static async Task<double> JitSecondsAsync(HttpClient http)
    {
        const string metric = "dotnet_jit_compilation_time_seconds_total";
        var text = await http.GetStringAsync("metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(metric, StringComparison.Ordinal))
                   ?? throw new InvalidOperationException($"the node's /metrics has no {metric}");
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
