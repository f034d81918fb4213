using ActorGrid.MapReduce.Tests;
using ActorGrid.Broker;
using ActorGrid.Client;
using ActorGrid.KeyValue;
using ActorGrid.MapReduce;
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
        await using var browser = await LaunchAsync(playwright);
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
        // The rows can be drawn from a refresh between the join and the commit: wait for one that shows the commit.
        await Eventually.AwaitAsync(async () =>
        {
            var lag = await page.Locator("tr.group-lag[data-group=billing]").EvaluateAllAsync<int>("rows => rows.reduce((s, r) => s + Number(r.dataset.lag), 0)");
            return lag == 90 - polled.Records.Count ? null : $"the page shows a lag of {lag}";
        }, TimeSpan.FromSeconds(30), $"the page to show billing's lag as {90 - polled.Records.Count}");

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

    [Fact]
    public async Task On_a_node_with_tokens_the_page_asks_for_a_token_once_and_sends_it_with_every_poll()
    {
        Assert.True(File.Exists(Chromium), $"no browser at {Chromium} (install Debian's chromium package, or set ACTORGRID_CHROMIUM)");
        var tokensFile = Path.Combine(Path.GetTempPath(), $"actorgrid-dashboard-tokens-{Guid.NewGuid():N}.txt");
        await File.WriteAllLinesAsync(tokensFile, ["dashboard-reader-4f1c9a read", "kv-writer-8e2b7d write:kv/"]);
        try
        {
            await using var cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue().WithBroker().WithMapReduce(), new GridTestClusterOptions
            {
                Log = output.WriteLine,
                Configure = (_, o) => o with { Security = o.Security with { TokensFile = tokensFile } },
            });
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await LaunchAsync(playwright);
            var page = await browser.NewPageAsync();
            var failures = new List<string>();
            page.PageError += (_, error) => failures.Add(error);
            var polls = new List<(string Url, string? Authorization)>();
            page.Request += (_, request) =>
            {
                if (!request.Url.Contains("/dashboard", StringComparison.Ordinal))
                {
                    lock (polls)
                    {
                        polls.Add((request.Url, request.Headers.GetValueOrDefault("authorization")));
                    }
                }
            };
            await page.GotoAsync(new Uri(cluster.Nodes[0].HttpAddress, "/dashboard").ToString());

            // The page itself loads without a token; its first polls are 401s, so it asks for one.
            var form = page.Locator("#token-form");
            await Expect(form).ToBeVisibleAsync(new() { Timeout = 30_000 });
            await Expect(page.Locator("#token-note")).ToContainTextAsync("needs a token");
            await Expect(page.Locator("tr.member")).ToHaveCountAsync(0);

            // A token the node does not know: asked again.
            await page.FillAsync("#token", "not-a-token-of-this-node");
            await page.ClickAsync("#token-form button");
            await Expect(page.Locator("#token-note")).ToContainTextAsync("does not know", new() { Timeout = 30_000 });
            await Expect(form).ToBeVisibleAsync();

            // A read token: every view fills in, and a reload keeps the token (this tab's sessionStorage) without asking.
            await page.FillAsync("#token", "dashboard-reader-4f1c9a");
            await page.ClickAsync("#token-form button");
            var wait = new LocatorAssertionsToHaveCountOptions { Timeout = 30_000 };
            await Expect(page.Locator("tr.member[data-status=Up]")).ToHaveCountAsync(1, wait);
            await Expect(form).ToBeHiddenAsync();
            await page.ReloadAsync();
            await Expect(page.Locator("tr.member[data-status=Up]")).ToHaveCountAsync(1, wait);
            await Expect(form).ToBeHiddenAsync();
            foreach (var path in new[] { "/cluster/shards", "/topics", "/groups", "/jobs" })
            {
                await Eventually.AwaitAsync(() =>
                {
                    lock (polls)
                    {
                        return polls.Any(p => p.Url.EndsWith(path, StringComparison.Ordinal) && p.Authorization == "Bearer dashboard-reader-4f1c9a")
                            ? null
                            : $"no poll of {path} with the token yet";
                    }
                }, TimeSpan.FromSeconds(30), $"the page to poll {path} with the token");
            }

            // Forgetting it asks again.
            await page.ClickAsync("#forget-token");
            await Expect(form).ToBeVisibleAsync();
            Assert.Empty(failures);
        }
        finally
        {
            File.Delete(tokensFile);
        }
    }

    private static Task<IBrowser> LaunchAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });

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
