#nullable enable
using Akka.Actor;
using Akka.DependencyInjection;
using Akka.Dispatch;
using Akka.Event;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace ActorGrid.Observability;

/// <summary>
/// The Akka.NET logger of a node: hands every log event to the host's <see cref="ILoggerFactory"/> with its message
/// template and arguments (<c>"KV partition {PersistenceId}: ..."</c>), so named properties reach structured sinks
/// such as the JSON console formatter, under the logging class's name as category.
/// </summary>
public sealed class GridLogger : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ILoggerFactory _factory;
    private readonly Dictionary<string, ILogger> _loggers = new(StringComparer.Ordinal);

    /// <summary>Creates the logger; outside a host (no dependency resolver) it discards events.</summary>
    public GridLogger() =>
        _factory = Context.System.Settings.Setup.Get<DependencyResolverSetup>().HasValue
            ? DependencyResolver.For(Context.System).Resolver.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance
            : NullLoggerFactory.Instance;

    /// <inheritdoc />
    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent e:
                Log(e);
                return true;
            default:
                return false;
        }
    }

    private void Log(LogEvent e)
    {
        // Akka's own string-sourced events (remoting, cluster) share one category; the source goes in the scope.
        var category = e.LogClass is { } type && type != typeof(DummyClassForStringSources) ? type.FullName ?? type.Name : "Akka";
        if (!_loggers.TryGetValue(category, out var logger))
        {
            _loggers[category] = logger = _factory.CreateLogger(category);
        }

        var level = e.LogLevel() switch
        {
            Akka.Event.LogLevel.DebugLevel => LogLevel.Debug,
            Akka.Event.LogLevel.InfoLevel => LogLevel.Information,
            Akka.Event.LogLevel.WarningLevel => LogLevel.Warning,
            _ => LogLevel.Error,
        };
        if (!logger.IsEnabled(level))
        {
            return;
        }

        using var scope = logger.BeginScope("{AkkaSource}", e.LogSource);
        if (e.Message is LogMessage template)
        {
#pragma warning disable CA2254 // The template is the caller's, kept as written so that its names stay properties.
            logger.Log(level, e.Cause, template.Format, [.. template.Parameters()]);
#pragma warning restore CA2254
        }
        else
        {
            logger.Log(level, e.Cause, "{Message}", e.Message);
        }
    }
}
