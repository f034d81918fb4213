#nullable enable
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using ActorGrid.TestKit;
using ActorGrid.TestKit.Processes;

namespace ActorGrid.Benchmarks.Redis;

/// <summary>
/// A real <c>redis-server</c> (Debian's package) as a child process on a free loopback port, in a temporary
/// directory of its own, for side-by-side runs. Durable the way the comparison needs it by default:
/// <c>appendonly yes</c> with <c>appendfsync always</c> (every write is fsynced before the reply), no RDB saves.
/// Disposing kills it and removes the directory.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private RedisServerProcess(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    /// <summary>The port it listens on (127.0.0.1).</summary>
    public int Port { get; }

    /// <summary>Process id.</summary>
    public int Pid => _process.Id;

    /// <summary>CPU time the server has used so far (user + system).</summary>
    public TimeSpan TotalProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Whether <c>redis-server</c> is on the PATH.</summary>
    public static bool IsInstalled => ExecutableOnPath("redis-server") is not null;

    /// <summary>The full path of <paramref name="name"/> on the PATH, or null.</summary>
    public static string? ExecutableOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>
    /// Starts <c>redis-server</c> and waits until it answers PING. <paramref name="extraArgs"/> (for example
    /// <c>--appendfsync everysec</c>) come after the defaults and override them.
    /// </summary>
    public static async Task<RedisServerProcess> StartAsync(IReadOnlyList<string>? extraArgs = null, TimeSpan? timeout = null)
    {
        var port = FreePorts.Take(1)[0];
        var directory = Directory.CreateTempSubdirectory("actorgrid-redis-").FullName;
        var start = new ProcessStartInfo("redis-server")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", directory,
            "--appendonly", "yes", "--appendfsync", "always", "--save", string.Empty,
            "--daemonize", "no", "--protected-mode", "no", "--logfile", string.Empty,
        ];
        foreach (var arg in args.Concat(extraArgs ?? []))
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServerProcess(process, directory, port);
        try
        {
            await Eventually.AwaitAsync(
                async () => process.HasExited ? null : await server.PingAsync(),
                timeout ?? TimeSpan.FromSeconds(15),
                $"redis-server on port {port} to answer PING");
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} on port {port}");
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>Kills the server and removes its directory.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }

        _process.Dispose();
        NodeProcess.TryDelete(_directory);
    }

    // Null once the server answers +PONG, else what went wrong (for the timeout's message).
    private async Task<string?> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer);
            var answer = Encoding.ASCII.GetString(buffer, 0, read);
            return answer.StartsWith("+PONG", StringComparison.Ordinal) ? null : $"PING answered '{answer.Trim()}'";
        }
        catch (SocketException e)
        {
            return e.Message;
        }
    }
}
