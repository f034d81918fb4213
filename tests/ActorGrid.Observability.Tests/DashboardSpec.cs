using ActorGrid.MapReduce.Tests;
using ActorGrid.Client;
using ActorGrid.TestKit;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace ActorGrid.Observability.Tests;

/// <summary>
/// <c>GET /dashboard</c> in a real headless Chromium (Debian's <c>chromium</c>, driven by Playwright): three members,
/// a hot shard, a topic with consumer lag, a running job's progress reaching 100 %, and a crashed node shown as
/// unreachable. Saves a screenshot (into docs/ when <c>ACTORGRID_UPDATE_SCREENSHOTS=1</c>).
/// </summary>
public sealed class DashboardSpec(ITestOutputHelper output)
{
    /// <summary>Where the browser is; Debian's package by default.</summary>
    private static readonly string Chromium = Environment.GetEnvironmentVariable("ACTORGRID_CHROMIUM") ?? "/usr/bin/chromium";

    [Fact]
    public async Task The_dashboard_shows_members_hot_shards_lag_job_progress_and_a_crashed_node_as_unreachable()
    {
        Assert.True(File.Exists(Chromium), $"no browser at {Chromium} (install Debian's chromium package, or set ACTORGRID_CHROMIUM)");

        // A long stable-after keeps the crashed node unreachable (not yet downed and removed) while the page looks.
        await using var cluster = await GridUnderTest.StartAsync(output.WriteLine, new GridTestClusterOptions
        {
            FailureDetection = new() { HeartbeatInterval = TimeSpan.FromMilliseconds(500), AcceptableHeartbeatPause = TimeSpan.FromSeconds(2), StableAfter = TimeSpan.FromSeconds(60) },
        });
        var edge = cluster.Nodes[0].Client;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        var failures = new List<string>();
        page.PageError += (_, error) => failures.Add(error);
        await page.GotoAsync(new Uri(cluster.Nodes[0].HttpAddress, "/dashboard").ToString());
        var wait = new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 };

        // Three members, all Up and reachable.
        await Expect(page.Locator("tr.member[data-status=Up][data-reachable=true]")).ToHaveCountAsync(3, wait);

        // A hot key: one partition takes most of the load and is drawn as the region's hottest shard.
        using var hot = new CancellationTokenSource();
        var hammer = Task.Run(async () =>
        {
            for (var i = 0; !hot.IsCancellationRequested; i++)
            {
                await edge.Kv.PutAsync("hot/key", $"v{i}", cancellationToken: CancellationToken.None);
                if (i % 10 == 0)
                {
                    await edge.Kv.PutAsync($"cool/{i}", "v", cancellationToken: CancellationToken.None);
                }
            }
        });
        await Expect(page.Locator(".region[data-type=kv] rect.shard[data-load]:not([data-load='0'])").First).ToBeVisibleAsync(new() { Timeout = 30_000 });

        // A topic and a consumer group behind it.
        await edge.Broker.CreateTopicAsync("orders", partitions: 3);
        await edge.Broker.ProduceAsync("orders", [.. Enumerable.Range(0, 90).Select(i => ProducerRecord.Text($"o{i}", $"order {i}"))]);
        var member = await edge.Broker.JoinGroupAsync("billing", ["orders"]);
        var polled = await edge.Broker.PollAsync("billing", member.MemberId, max: 10, waitMs: 2000);
        await edge.Broker.CommitAsync("billing", member.MemberId, polled.Records);
        await Expect(page.Locator("tr.partition[data-topic=orders]")).ToHaveCountAsync(3, wait);
        await Expect(page.Locator("tr.group-lag[data-group=billing]")).ToHaveCountAsync(3, wait);
        var lag = await page.Locator("tr.group-lag[data-group=billing]").EvaluateAllAsync<int>("rows => rows.reduce((s, r) => s + Number(r.dataset.lag), 0)");
        Assert.Equal(90 - polled.Records.Count, lag);

        // A job that runs for several seconds (three map tasks, one per partition of the topic, and two reduce
        // tasks): the page shows it running below 100 %, then reaching 100 %.
        using var parameters = System.Text.Json.JsonDocument.Parse("""{"delayMs":60}""");
        var jobId = await edge.Jobs.SubmitAsync(new JobRequest(PacedWordCountJob.Name, JobInput.FromTopic("orders"), Reducers: 2, Parameters: parameters.RootElement.Clone()));
        var job = page.Locator($".job[data-job='{jobId}']");
        await Expect(job).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 30_000 });
        var seenWhileRunning = int.Parse(await job.GetAttributeAsync("data-progress") ?? "-1", System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seenWhileRunning, 0, 99);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Screenshot("dashboard-running.png"), FullPage = true });
        await Expect(job).ToHaveAttributeAsync("data-progress", "100", new() { Timeout = 60_000 });
        await Expect(job).ToHaveAttributeAsync("data-state", "Completed");
        await Expect(job.Locator(".percent")).ToHaveTextAsync("100 %");

        hot.Cancel();
        await hammer;

        // Crash a node: the page marks it unreachable (the resolver waits for stable-after before downing it).
        var crashed = cluster.Nodes[2].Address.ToString();
        await cluster.CrashAsync(2);
        await Expect(page.Locator($"tr.member[data-address='{crashed}'][data-reachable=false]")).ToHaveCountAsync(1, wait);
        await Expect(page.Locator("tr.member[data-reachable=true]")).ToHaveCountAsync(2, wait);
        await Expect(page.Locator($"tr.member[data-address='{crashed}'] .unreachable")).ToHaveTextAsync("unreachable");

        var path = Screenshot("dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
        Assert.Empty(failures);
    }

    /// <summary>A screenshot path: the test's output folder, or the repository's docs/images when asked to update them.</summary>
    private static string Screenshot(string name)
    {
        if (Environment.GetEnvironmentVariable("ACTORGRID_UPDATE_SCREENSHOTS") == "1")
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ActorGrid.sln")))
            {
                dir = dir.Parent;
            }

            if (dir is not null)
            {
                var images = Directory.CreateDirectory(Path.Combine(dir.FullName, "docs", "images"));
                return Path.Combine(images.FullName, name);
            }
        }

        return Path.Combine(AppContext.BaseDirectory, name);
    }
}
