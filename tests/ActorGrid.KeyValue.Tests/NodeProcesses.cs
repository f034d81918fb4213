using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ActorGrid.TestKit;

namespace ActorGrid.KeyValue.Tests;

/// <summary>
/// Real <c>ActorGrid.Node</c> processes (the built executable, as users run it) on loopback ports, sharing one
/// data folder, the first one seeding the others.
/// </summary>
public sealed class NodeProcesses : IAsyncDisposable
{
    private readonly List<(Process Process, StringBuilder Log)> _processes = [];
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "actorgrid-e2e", Guid.NewGuid().ToString("N")[..12]);

    private NodeProcesses()
    {
    }

    /// <summary>Each node's HTTP address.</summary>
    public IReadOnlyList<Uri> Urls { get; private set; } = [];

    /// <summary>Starts <paramref name="count"/> nodes with <paramref name="extraArgs"/> and waits until every one is ready.</summary>
    public static async Task<NodeProcesses> StartAsync(int count, params string[] extraArgs)
    {
        var nodes = new NodeProcesses();
        try
        {
            var remotingPorts = Enumerable.Range(0, count).Select(_ => FreePort()).ToList();
            var urls = Enumerable.Range(0, count).Select(_ => new Uri($"http://127.0.0.1:{FreePort()}/")).ToList();
            for (var i = 0; i < count; i++)
            {
                var args = new List<string> { NodeDll(), "--port", remotingPorts[i].ToString(), "--http", urls[i].ToString().TrimEnd('/'), "--data", nodes._dataDir };
                if (i > 0)
                {
                    args.AddRange(["--seed", $"127.0.0.1:{remotingPorts[0]}"]);
                }

                args.AddRange(extraArgs);
                nodes.Start(args);
            }

            nodes.Urls = urls;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Eventually.AwaitAsync(async () =>
            {
                foreach (var (process, log) in nodes._processes.Where(p => p.Process.HasExited))
                {
                    throw new InvalidOperationException($"node process exited with {process.ExitCode}: {log}");
                }

                foreach (var url in urls)
                {
                    using var response = await http.GetAsync(new Uri(url, "health/ready"));
                    if (!response.IsSuccessStatusCode)
                    {
                        return $"{url} is {(int)response.StatusCode}";
                    }

                    var cluster = await http.GetStringAsync(new Uri(url, "cluster"));
                    if (CountOccurrences(cluster, "\"Up\"") != count)
                    {
                        return $"{url} sees {cluster}";
                    }
                }

                return null;
            }, TimeSpan.FromSeconds(60), $"{count} node processes to be ready");
            return nodes;
        }
        catch
        {
            await nodes.DisposeAsync();
            throw;
        }
    }

    /// <summary>Everything the nodes wrote so far (for failure messages).</summary>
    public string Logs => string.Join("\n", _processes.Select((p, i) => $"--- node{i}\n{p.Log}"));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var (process, _) in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            await process.WaitForExitAsync();
            process.Dispose();
        }

        try
        {
            Directory.Delete(_dataDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Start(IReadOnlyList<string> args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var log = new StringBuilder();
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start dotnet");
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add((process, log));
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    /// <summary>The node executable built next to this test project, in the same configuration.</summary>
    private static string NodeDll()
    {
        // tests/ActorGrid.KeyValue.Tests/bin/<Configuration>/net10.0/ → src/ActorGrid.Node/bin/<Configuration>/net10.0/
        var here = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = here.Parent!.Name;
        var repo = here.Parent!.Parent!.Parent!.Parent!.Parent!.FullName;
        var dll = Path.Combine(repo, "src", "ActorGrid.Node", "bin", configuration, here.Name, "ActorGrid.Node.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("Build src/ActorGrid.Node first", dll);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
