#nullable enable
using System.CommandLine;
using ActorGrid.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace ActorGrid.Hosting;

/// <summary>
/// Runs a node executable: flags parsed by <see cref="NodeCommandLine"/>, and every failure to start (a bad flag or
/// configuration key, a port in use, an unreachable journal) reported as one line on stderr with exit code
/// <see cref="StartupFailed"/>, so that supervisors and scripts can tell it from a crash later on.
/// </summary>
public static class NodeStartup
{
    /// <summary>Exit code of a node that could not start.</summary>
    public const int StartupFailed = 2;

    /// <summary>Parses <paramref name="args"/> for <paramref name="command"/> and runs it (or prints <c>--help</c>).</summary>
    public static Task<int> InvokeAsync(RootCommand command, string[] args)
    {
        var parse = command.Parse(args);
        if (parse.Errors.Count > 0)
        {
            Console.Error.WriteLine($"Invalid command line: {OneLine(parse.Errors[0].Message)} (see --help)");
            return Task.FromResult(StartupFailed);
        }

        // SIGTERM and Ctrl-C are the host's to handle (a graceful leave within HostOptions.ShutdownTimeout, 45 s):
        // System.CommandLine's own handling would end the process with 143 two seconds after the signal, in the
        // middle of handing its shards off.
        return parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
    }

    /// <summary>
    /// Builds the web application from the configuration layered with the parsed flags, lets
    /// <paramref name="addServices"/> and <paramref name="mapEndpoints"/> compose it, starts it and runs it until it stops.
    /// </summary>
    public static async Task<int> RunAsync(
        ParseResult parse, CancellationToken cancellationToken, Action<WebApplicationBuilder, IConfiguration> addServices, Action<WebApplication> mapEndpoints)
    {
        WebApplication app;
        try
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.Configuration.AddInMemoryCollection(NodeCommandLine.ToConfiguration(parse));
            builder.WebHost.UseUrls(builder.Configuration["urls"] ?? "http://127.0.0.1:5080");
            if (ActorGridOptionsValidator.Bind(builder.Configuration).InlineIo)
            {
                InlineIo.EnableSocketCompletions();
            }

            addServices(builder, builder.Configuration);
            app = builder.Build();
            mapEndpoints(app);
            await app.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Console.Error.WriteLine(e is ActorGridConfigurationException ? OneLine(e.Message) : "Startup failed: " + Describe(e));
            return StartupFailed;
        }

        await using (app)
        {
            await app.WaitForShutdownAsync(CancellationToken.None);
        }

        return Environment.ExitCode;
    }

    /// <summary>The messages of <paramref name="e"/> and its causes that add something, on one line.</summary>
    public static string Describe(Exception e)
    {
        var messages = new List<string>();
        for (var cause = e; cause is not null; cause = cause.InnerException)
        {
            if (cause is AggregateException)
            {
                // Only wraps: its message repeats the inner ones.
                continue;
            }

            var message = OneLine(cause.Message.Replace("See InnerException for details.", "", StringComparison.Ordinal)).TrimEnd('.');
            if (message.Length > 0 && !messages.Any(m => m.Contains(message, StringComparison.OrdinalIgnoreCase)))
            {
                messages.Add(message);
            }
        }

        return string.Join(": ", messages);
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
