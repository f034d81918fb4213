#nullable enable
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ActorGrid.Client;
using Polly.Timeout;
using Spectre.Console;

namespace ActorGrid.Cli;

/// <summary>
/// What every verb shares: the global options (<c>--node</c>, <c>--output</c>, <c>--timeout</c>, <c>--token</c>, <c>--ca</c>), the client for the
/// chosen node, and one failure policy — any failure prints one line to stderr and exits non-zero.
/// </summary>
public static class GridCli
{
    /// <summary>Environment variable that overrides the default node address.</summary>
    public const string NodeEnvironmentVariable = "ACTORGRID_NODE";

    /// <summary>Where the CLI goes when neither <c>--node</c> nor <c>ACTORGRID_NODE</c> says otherwise.</summary>
    public const string DefaultNode = "http://127.0.0.1:5080";

    /// <summary>Exit code of a failure that has no code of its own.</summary>
    public const int Failed = 1;

    /// <summary>Exit code of a usage mistake: a bad flag or argument, or input the node refused as bad (400).</summary>
    public const int Usage = 2;

    /// <summary>Exit code when what was named does not exist (404).</summary>
    public const int NotFound = 3;

    /// <summary>Exit code of a conflict or a failed precondition (409, 412).</summary>
    public const int Conflict = 4;

    /// <summary>Exit code when the node cannot be reached or cannot serve now (503, connection refused, timeout).</summary>
    public const int Unavailable = 5;

    /// <summary>Exit code when the token is missing, wrong or lacks the scope (401, 403).</summary>
    public const int Unauthorized = 6;

    /// <summary>Exit code when the user interrupted the command (Ctrl-C).</summary>
    public const int Interrupted = 130;

    /// <summary><c>--node &lt;url&gt;</c>: the node to talk to; any node serves any request.</summary>
    public static Option<Uri> NodeOption { get; } = new("--node")
    {
        Description = $"Base URL of any ActorGrid node [env: {NodeEnvironmentVariable}]",
        HelpName = "url",
        Recursive = true,
        CustomParser = result => ParseNode(result, result.Tokens[^1].Value, "--node"),
        DefaultValueFactory = result => ParseNode(
            result, Environment.GetEnvironmentVariable(NodeEnvironmentVariable) is { Length: > 0 } env ? env : DefaultNode, NodeEnvironmentVariable)!,
    };

    /// <summary><c>--output table</c>: what a verb prints for people (the default).</summary>
    public const string TableFormat = "table";

    /// <summary><c>--output json</c>: the node's answer as one JSON document, for scripts.</summary>
    public const string JsonFormat = "json";

    /// <summary><c>--output json|table</c>: how a verb prints what it got.</summary>
    public static Option<string> OutputOption { get; } = CreateOutputOption();

    /// <summary><c>--json</c>: short for <c>--output json</c>.</summary>
    public static Option<bool> JsonOption { get; } = new("--json")
    {
        Description = "Same as --output json",
        Recursive = true,
    };

    /// <summary><c>--timeout &lt;seconds&gt;</c>: how long one HTTP call may take.</summary>
    public static Option<double> TimeoutOption { get; } = new("--timeout")
    {
        Description = "Seconds one request to the node may take",
        HelpName = "seconds",
        Recursive = true,
        DefaultValueFactory = _ => 30,
        Validators = { r => { if (r.GetValueOrDefault<double>() <= 0) { r.AddError("--timeout must be positive"); } } },
    };

    /// <summary>Environment variable holding the bearer token when <c>--token</c> is not given.</summary>
    public const string TokenEnvironmentVariable = "ACTORGRID_TOKEN";

    /// <summary><c>--token &lt;token&gt;</c>: the bearer token of a node with <c>Security:TokensFile</c>.</summary>
    public static Option<string?> TokenOption { get; } = new("--token")
    {
        Description = $"Bearer token for a node with tokens [env: {TokenEnvironmentVariable}]",
        HelpName = "token",
        Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(TokenEnvironmentVariable) is { Length: > 0 } env ? env : null,
    };

    /// <summary><c>--ca &lt;file&gt;</c>: the PEM CA that signed the node's HTTPS certificate.</summary>
    public static Option<string?> CaOption { get; } = new("--ca")
    {
        Description = "PEM file of the CA that signed the node's HTTPS certificate (instead of the system store)",
        HelpName = "file",
        Recursive = true,
        Validators = { r => { if (r.GetValueOrDefault<string?>() is { } path && !File.Exists(path)) { r.AddError($"--ca: no file '{path}'"); } } },
    };

    /// <summary>Adds the global options to <paramref name="root"/>.</summary>
    public static RootCommand AddGlobalOptions(this RootCommand root)
    {
        root.Options.Add(NodeOption);
        root.Options.Add(OutputOption);
        root.Options.Add(JsonOption);
        root.Options.Add(TimeoutOption);
        root.Options.Add(TokenOption);
        root.Options.Add(CaOption);
        return root;
    }

    /// <summary>
    /// Sets <paramref name="action"/> as the command's action, handing it a <see cref="GridInvocation"/> (client, output,
    /// options) and turning any failure into one line on stderr and exit code <see cref="Failed"/>.
    /// </summary>
    public static void SetGridAction(this Command command, Func<GridInvocation, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var config = parseResult.InvocationConfiguration;
            var node = parseResult.GetRequiredValue(NodeOption);
            var json = parseResult.GetValue(JsonOption) || parseResult.GetValue(OutputOption) == JsonFormat;
            try
            {
                // The same client as a service's AddActorGridClient, on one node and without retries: a CLI says at once
                // what went wrong (the exit code tells a script whether to try again).
                var timeout = TimeSpan.FromSeconds(parseResult.GetValue(TimeoutOption));
                var client = ActorGridClient.Create(new ActorGridClientOptions
                {
                    Nodes = [node],
                    Token = parseResult.GetValue(TokenOption),
                    CaCertificatePath = parseResult.GetValue(CaOption),
                    AttemptTimeout = timeout,
                    TotalTimeout = timeout,
                    MaxRetryAttempts = 0,
                });
                using var http = client.Http!;
                return await action(new GridInvocation(parseResult, client, node, config.Output, config.Error, json), cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await config.Error.WriteLineAsync("interrupted");
                return Interrupted;
            }
            catch (Exception e)
            {
                await config.Error.WriteLineAsync("error: " + Describe(e, node));
                return ExitCode(e);
            }
        });

    /// <summary>The exit code for a verb that failed with <paramref name="e"/> (SPEC §15).</summary>
    public static int ExitCode(Exception e) => e switch
    {
        ActorGridException { Status: var status } => (int)status switch
        {
            400 or 413 or 416 => Usage,
            404 => NotFound,
            409 or 412 => Conflict,
            401 or 403 => Unauthorized,
            502 or 503 or 504 => Unavailable,
            _ => Failed,
        },
        KeyNotFoundException => NotFound,
        ArgumentException or FormatException => Usage,
        HttpRequestException or TaskCanceledException or TimeoutException or TimeoutRejectedException => Unavailable,
        _ => Failed,
    };

    /// <summary>One line that tells the user what went wrong, without a stack trace.</summary>
    public static string Describe(Exception e, Uri baseAddress)
    {
        var node = baseAddress.ToString().TrimEnd('/');
        var line = e switch
        {
            ActorGridException problem => problem.Message,
            HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } =>
                $"cannot reach node {node}: connection refused (is it running? set --node or {NodeEnvironmentVariable})",
            HttpRequestException { InnerException: SocketException socket } => $"cannot reach node {node}: {socket.Message}",
            HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError } => $"cannot reach node {node}: unknown host",
            HttpRequestException http => $"request to {node} failed: {http.Message}",
            TaskCanceledException or TimeoutException or TimeoutRejectedException => $"node {node} did not answer in time (see --timeout)",
            JsonException json => $"node {node} sent an unexpected answer: {json.Message}",
            _ => e.Message,
        };
        return line.ReplaceLineEndings(" ").Trim();
    }

    /// <summary>A number as a table cell (invariant culture, no grouping).</summary>
    internal static string Number(long value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static Option<string> CreateOutputOption()
    {
        var option = new Option<string>("--output", "-o")
        {
            Description = "table (for people) or json (the node's answer as one JSON document, for scripts)",
            HelpName = "json|table",
            Recursive = true,
            DefaultValueFactory = _ => TableFormat,
        };
        option.AcceptOnlyFromAmong(TableFormat, JsonFormat);
        return option;
    }

    private static Uri? ParseNode(ArgumentResult result, string text, string source)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            result.AddError($"{source} must be an http(s) URL such as {DefaultNode} (got '{text}')");
            return null;
        }

        // Relative request paths ("cluster", "kv/...") must land under a path prefix, not replace its last segment.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
    }
}

/// <summary>What a verb's action gets: the parse result, a client for the chosen node, and where to write.</summary>
/// <param name="ParseResult">The parsed command line (read the verb's own options and arguments from it).</param>
/// <param name="Client">Client for the node given by <c>--node</c>.</param>
/// <param name="Node">The node's base URL.</param>
/// <param name="Output">Standard output.</param>
/// <param name="Error">Standard error.</param>
/// <param name="Json">Whether the verb prints JSON (<c>--output json</c> or <c>--json</c>).</param>
public sealed record GridInvocation(ParseResult ParseResult, ActorGridClient Client, Uri Node, TextWriter Output, TextWriter Error, bool Json)
{
    private static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>A Spectre.Console surface over <see cref="Output"/> for tables and progress bars.</summary>
    public IAnsiConsole Console { get; } = CreateConsole(Output);

    /// <summary>The value of one of the verb's options.</summary>
    public T? Get<T>(Option<T> option) => ParseResult.GetValue(option);

    /// <summary>The value of one of the verb's arguments.</summary>
    public T? Get<T>(Argument<T> argument) => ParseResult.GetValue(argument);

    /// <summary>Writes <paramref name="value"/> as indented JSON (web naming) to <see cref="Output"/>.</summary>
    public void WriteJson<T>(T value) => Output.WriteLine(JsonSerializer.Serialize(value, Indented));

    private static IAnsiConsole CreateConsole(TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output) });
        if (output != System.Console.Out || System.Console.IsOutputRedirected)
        {
            // Piped or captured: no terminal width to respect, and wrapped cells break grep and awk.
            console.Profile.Width = 240;
        }

        return console;
    }
}
