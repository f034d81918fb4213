using System.Collections.Concurrent;
using ActorGrid.TestKit;
using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace ActorGrid.Observability.Tests;

/// <summary>Akka.NET log events reach <see cref="ILogger"/> with their named properties, not as preformatted text.</summary>
public sealed class GridLoggerSpec
{
    [Fact]
    public async Task A_named_template_arrives_with_its_properties_and_the_logging_class_as_category()
    {
        var sink = new CapturingProvider();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders().AddProvider(sink);
        builder.Services.AddAkka("logs", akka => akka.ConfigureLoggers(l => l.ClearLoggers().AddLogger<GridLogger>()));
        using var host = builder.Build();
        await host.StartAsync();
        var system = host.Services.GetRequiredService<ActorSystem>();

        Logging.GetLogger(system, typeof(GridLoggerSpec)).Warning("KV partition {PersistenceId}: snapshot at {SequenceNr} failed", "kv-7", 4000L);

        await Eventually.AwaitAsync(() => sink.Entries.Any(e => e.Category == typeof(GridLoggerSpec).FullName) ? null : "not logged yet",
            TimeSpan.FromSeconds(10), "the warning to reach ILogger");
        var entry = sink.Entries.Single(e => e.Category == typeof(GridLoggerSpec).FullName);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Equal("KV partition kv-7: snapshot at 4000 failed", entry.Message);
        Assert.Equal("kv-7", entry.Properties["PersistenceId"]);
        Assert.Equal(4000L, entry.Properties["SequenceNr"]);
        Assert.Equal("KV partition {PersistenceId}: snapshot at {SequenceNr} failed", entry.Properties["{OriginalFormat}"]);
        await host.StopAsync();
    }

    private sealed record Entry(string Category, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Properties);

    private sealed class CapturingProvider : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Capturing(categoryName, Entries);

        public void Dispose()
        {
        }

        private sealed class Capturing(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new Entry(category, logLevel, formatter(state, exception),
                    state is IEnumerable<KeyValuePair<string, object?>> pairs ? pairs.ToDictionary(p => p.Key, p => p.Value) : new Dictionary<string, object?>()));
        }
    }
}
