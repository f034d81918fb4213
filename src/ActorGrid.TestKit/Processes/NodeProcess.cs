#nullable enable
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using ActorGrid.Client;

namespace ActorGrid.TestKit.Processes;

/// <summary>How to start one <see cref="NodeProcess"/>.</summary>
public sealed record NodeProcessOptions
{
    /// <summary>Name used in diagnostics (<c>node-1</c>).</summary>
    public string Name { get; init; } = "node";

    /// <summary>The journal folder (<c>--data</c>). Node processes that share it share one SQLite journal. Default: a fresh folder of this node's own.</summary>
    public string? DataDir { get; init; }

    /// <summary>Seed nodes as <c>host:port</c> (<c>--seed</c>); empty: the node forms a cluster by itself.</summary>
    public IReadOnlyList<string> Seeds { get; init; } = [];

    /// <summary>Arguments appended after the generated ones; a repeated flag overrides the generated value.</summary>
    public IReadOnlyList<string> ExtraArgs { get; init; } = [];

    /// <summary>Environment variables for the process. Inherited <c>ActorGrid__*</c> variables are always removed.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Remoting port; default a free one. Set it to restart a node at the same address, as a pod keeps its name.</summary>
    public int? RemotingPort { get; init; }

    /// <summary>HTTP port; default a free one.</summary>
    public int? HttpPort { get; init; }

    /// <summary>The node binary to run (<c>ActorGrid.Node.dll</c> or a user's own node); default <see cref="NodeProcess.DefaultNodeAssembly"/>.</summary>
    public string? NodeAssembly { get; init; }
}

/// <summary>
/// The real <c>ActorGrid.Node</c> binary running as a child process on free loopback ports, for process-level tests:
/// crash it with SIGKILL, stop it with SIGTERM (graceful leave), pause it with SIGSTOP and wake it with SIGCONT (what a
/// long GC pause, a VM stall or a frozen container does), read its last output for diagnostics.
/// Disposing kills whatever is still running.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private const int LogCapacity = 2000;
    private const int SigTerm = 15;
    private static readonly int SigStop = OperatingSystem.IsLinux() ? 19 : 17;
    private static readonly int SigCont = OperatingSystem.IsLinux() ? 18 : 19;

    private readonly Process _process;
    private readonly string _workingDirectory;
    private readonly Queue<string> _log = new();
    private readonly List<string> _standardError = [];
    private readonly Lock _gate = new();

    private NodeProcess(NodeProcessOptions options, int remotingPort, int httpPort, IReadOnlyList<string> args)
    {
        Name = options.Name;
        RemotingPort = remotingPort;
        HttpPort = httpPort;
        Arguments = args;
        _workingDirectory = Directory.CreateTempSubdirectory("actorgrid-node-").FullName;
        HttpUri = new Uri($"http://127.0.0.1:{httpPort}/");
        Http = new HttpClient { BaseAddress = HttpUri, Timeout = TimeSpan.FromSeconds(10) };
        Client = new ActorGridClient(Http);

        var start = new ProcessStartInfo(DotnetHost)
        {
            WorkingDirectory = _workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(options.NodeAssembly ?? DefaultNodeAssembly);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The test runner's environment must not leak configuration into the node under test.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ActorGrid__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment.Remove("ASPNETCORE_URLS");
        start.Environment.Remove("DOTNET_URLS");
        foreach (var (key, value) in options.Environment)
        {
            start.Environment[key] = value;
        }

        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Append(e.Data, isError: false);
        _process.ErrorDataReceived += (_, e) => Append(e.Data, isError: true);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Pid = _process.Id;
    }

    /// <summary>
    /// The node binary started by default: <c>ACTORGRID_NODE_DLL</c> if set, else, in this repository,
    /// <c>src/ActorGrid.Node/bin/&lt;Configuration&gt;/&lt;tfm&gt;/ActorGrid.Node.dll</c> of the running configuration.
    /// </summary>
    public static string DefaultNodeAssembly => DefaultNodeAssemblyPath.Value;

    private static readonly Lazy<string> DefaultNodeAssemblyPath = new(FindNodeAssembly);

    /// <summary>Name used in diagnostics.</summary>
    public string Name { get; }

    /// <summary>Process id.</summary>
    public int Pid { get; }

    /// <summary>Remoting port (<c>--port</c>).</summary>
    public int RemotingPort { get; }

    /// <summary>HTTP port (<c>--http</c>).</summary>
    public int HttpPort { get; }

    /// <summary>The node's HTTP base address.</summary>
    public Uri HttpUri { get; }

    /// <summary><c>127.0.0.1:&lt;port&gt;</c>, what other nodes pass as <c>--seed</c>.</summary>
    public string SeedAddress => $"127.0.0.1:{RemotingPort}";

    /// <summary>The node's cluster address as <c>GET /cluster</c> reports it.</summary>
    public string ClusterAddress => $"akka.tcp://actorgrid@127.0.0.1:{RemotingPort}";

    /// <summary>The arguments the node was started with.</summary>
    public IReadOnlyList<string> Arguments { get; }

    /// <summary>HTTP client for the node (10 s timeout).</summary>
    public HttpClient Http { get; }

    /// <summary>Typed client for the node.</summary>
    public ActorGridClient Client { get; }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true; // disposed: load generators may still hold this node for a moment
            }
        }
    }

    /// <summary>The exit code; only valid once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Every line the node wrote to stderr (bounded).</summary>
    public IReadOnlyList<string> StandardError
    {
        get
        {
            lock (_gate)
            {
                return [.. _standardError];
            }
        }
    }

    /// <summary>
    /// Starts a node on free ports. It runs in a fresh working directory of its own, with <c>--data</c> there unless
    /// <see cref="NodeProcessOptions.DataDir"/> says otherwise.
    /// </summary>
    public static NodeProcess Start(NodeProcessOptions? options = null)
    {
        options ??= new NodeProcessOptions();
        var ports = FreePorts.Take(2);
        var remotingPort = options.RemotingPort ?? ports[0];
        var httpPort = options.HttpPort ?? ports[1];
        List<string> args = ["--port", remotingPort.ToString(CultureInfo.InvariantCulture), "--http", $"http://127.0.0.1:{httpPort}"];
        if (options.DataDir is not null)
        {
            args.AddRange(["--data", options.DataDir]);
        }

        foreach (var seed in options.Seeds)
        {
            args.AddRange(["--seed", seed]);
        }

        args.AddRange(options.ExtraArgs);
        return new NodeProcess(options, remotingPort, httpPort, args);
    }

    /// <summary>Waits until <c>GET /health/ready</c> answers 200; fails at once if the process exits.</summary>
    /// <returns>How long it took.</returns>
    public Task<TimeSpan> WaitUntilReadyAsync(TimeSpan timeout) =>
        AwaitWhileRunningAsync(
            async () =>
            {
                using var response = await Http.GetAsync("health/ready");
                return response.IsSuccessStatusCode ? null : $"/health/ready answered {(int)response.StatusCode}";
            },
            timeout,
            $"{Name} to be ready");

    /// <summary>
    /// Waits until this node sees exactly <paramref name="members"/> as cluster members, all Up, none unreachable;
    /// fails at once if the process exits.
    /// </summary>
    /// <returns>How long it took.</returns>
    public Task<TimeSpan> WaitForMembersAsync(IEnumerable<NodeProcess> members, TimeSpan timeout)
    {
        var expected = members.Select(m => m.ClusterAddress).Order(StringComparer.Ordinal).ToList();
        return AwaitWhileRunningAsync(
            async () =>
            {
                var status = await Client.Cluster.GetStatusAsync();
                var up = status.Members.Where(m => m.Status == "Up").Select(m => m.Address).Order(StringComparer.Ordinal);
                return up.SequenceEqual(expected) && status.Members.Count == expected.Count && status.Unreachable.Count == 0
                    ? null
                    : $"members [{string.Join(", ", status.Members.Select(m => $"{m.Address} {m.Status}"))}], unreachable [{string.Join(", ", status.Unreachable)}]";
            },
            timeout,
            $"{Name} to see exactly [{string.Join(", ", expected)}] Up");
    }

    /// <summary>
    /// <see cref="Eventually.AwaitAsync(Func{Task{string?}}, TimeSpan, string)"/> that stops as soon as the process
    /// exits (throwing <see cref="NodeProcessExitedException"/>) and puts the node's last output in a timeout's message.
    /// </summary>
    /// <returns>How long the condition took to hold.</returns>
    public async Task<TimeSpan> AwaitWhileRunningAsync(Func<Task<string?>> check, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await Eventually.AwaitAsync(async () => _process.HasExited ? null : await check(), timeout, what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + System.Environment.NewLine + Diagnostics(), e);
        }

        if (_process.HasExited)
        {
            throw new NodeProcessExitedException($"{Name} exited with code {_process.ExitCode} while waiting for {what}{System.Environment.NewLine}{Diagnostics()}");
        }

        return clock.Elapsed;
    }

    /// <summary>Waits for the process to exit and returns its exit code.</summary>
    /// <exception cref="TimeoutException">if it is still running after <paramref name="timeout"/>.</exception>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            // Also waits for the redirected streams to drain, so the output is complete afterwards.
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} (pid {Pid}) did not exit within {timeout.TotalSeconds:0.#}s{System.Environment.NewLine}{Diagnostics()}");
        }

        return _process.ExitCode;
    }

    /// <summary>Crash: SIGKILL to the process tree, no graceful leave. Returns once it is gone.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>Whether the process is stopped by <see cref="Pause"/> and not yet resumed.</summary>
    public bool IsPaused { get; private set; }

    /// <summary>
    /// Pause: SIGSTOP. Every thread of the node stops at once while its sockets stay open, so connections and
    /// requests sent to it are accepted by the kernel and queue until <see cref="Resume"/>; its peers see it as
    /// unreachable and may down it.
    /// </summary>
    public void Pause()
    {
        Signal(SigStop, "SIGSTOP");
        IsPaused = true;
    }

    /// <summary>Wake a paused node: SIGCONT. It goes on where it stopped, with its clocks having jumped ahead.</summary>
    public void Resume()
    {
        Signal(SigCont, "SIGCONT");
        IsPaused = false;
    }

    /// <summary>Graceful stop: SIGTERM (the node leaves the cluster, handing its shards off), then waits for exit.</summary>
    /// <returns>The exit code.</returns>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            Signal(SigTerm, "SIGTERM");
        }

        return await WaitForExitAsync(timeout);
    }

    private void Signal(int signal, string name)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            throw new PlatformNotSupportedException(name + " needs Linux or macOS");
        }

        if (SendSignal(Pid, signal) != 0 && !_process.HasExited)
        {
            throw new InvalidOperationException($"kill({Pid}, {name}) failed with errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>The state and last <paramref name="lines"/> lines of output, for failure messages.</summary>
    public string Diagnostics(int lines = 60)
    {
        var state = _process.HasExited ? $"exited with code {_process.ExitCode}" : "running";
        var text = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"--- {Name} (pid {Pid}, {HttpUri}, remoting {RemotingPort}, {state}) args: {string.Join(' ', Arguments)}")
            .AppendLine();
        lock (_gate)
        {
            foreach (var line in _log.Skip(Math.Max(0, _log.Count - lines)))
            {
                text.AppendLine(line);
            }
        }

        return text.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} (pid {Pid}, {HttpUri})";

    /// <summary>Kills the process if it still runs and removes its working directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                // A stopped process dies of SIGKILL too; SIGCONT first so nothing of it lingers stopped.
                if (IsPaused)
                {
                    Resume();
                }

                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _process.WaitForExitAsync(cts.Token);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or the OS would not let us: nothing more a test can do.
        }

        _process.Dispose();
        Http.Dispose();
        TryDelete(_workingDirectory);
    }

    /// <summary>Deletes a directory tree, ignoring a failure (a file still held open).</summary>
    public static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leftover temp files are harmless.
        }
    }

    private void Append(string? line, bool isError)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _log.Enqueue(isError ? "[stderr] " + line : line);
            if (_log.Count > LogCapacity)
            {
                _log.Dequeue();
            }

            if (isError && _standardError.Count < LogCapacity)
            {
                _standardError.Add(line);
            }
        }
    }

    private static string DotnetHost =>
        System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string FindNodeAssembly()
    {
        if (System.Environment.GetEnvironmentVariable("ACTORGRID_NODE_DLL") is { Length: > 0 } overridden)
        {
            return overridden;
        }

        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ActorGrid.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException($"No ActorGrid.sln above {AppContext.BaseDirectory}; set ACTORGRID_NODE_DLL");
        }

        // Same configuration and target framework as this test assembly, which the project reference built first.
        var configuration = typeof(NodeProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var path = Path.Combine(root.FullName, "src", "ActorGrid.Node", "bin", configuration, framework, "ActorGrid.Node.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"Node binary not built: {path}", path);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}

/// <summary>A node process exited while a test waited for it to do something.</summary>
public sealed class NodeProcessExitedException(string message) : Exception(message);
