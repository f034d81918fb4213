using System.Net;
using System.Text;
using ActorGrid.Broker;
using ActorGrid.Configuration;
using ActorGrid.Contracts;
using ActorGrid.Hosting;
using ActorGrid.KeyValue;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EmbeddedService.Tests;

/// <summary>
/// A service with an actor system of its own (its own <c>AddAkka</c>, its own actors, its own routes and error
/// handling) adds ActorGrid's roles to that system instead of getting a second one.
/// </summary>
public sealed class EmbeddingSpec
{
    [Fact]
    public async Task A_host_with_its_own_AddAkka_and_actors_adds_the_grid_roles_to_that_system()
    {
        var name = "embedded-" + Guid.NewGuid().ToString("N")[..8];
        await using var app = Build(name, ("ActorGrid:ClusterName", name));
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };

        // One actor system: the service's own actor and the grid's regions live in it.
        var system = app.Services.GetRequiredService<ActorSystem>();
        Assert.Equal(name, system.Name);
        var echo = app.Services.GetRequiredService<IRequiredActor<Echo>>().ActorRef;
        Assert.Equal("hello", await echo.Ask<string>("hello", TimeSpan.FromSeconds(5)));
        await ActorGrid.TestKit.Eventually.AwaitAsync(async () =>
        {
            using var ready = await http.GetAsync("grid/health/ready");
            return ready.IsSuccessStatusCode ? null : $"ready answered {(int)ready.StatusCode}";
        }, TimeSpan.FromSeconds(30), "the embedded node to be ready");
        Assert.Contains(KvProtocol.RoleName, ClusterSharding.Get(system).ShardTypeNames);

        // The role's services were registered too: the service writes through the KV contract and reads over HTTP.
        var store = app.Services.GetRequiredService<IKeyValueStore>();
        await store.PutManyAsync([new KvEntry("orders/1", Encoding.UTF8.GetBytes("placed"))]);
        Assert.Equal("placed", await http.GetStringAsync("grid/kv/orders/1"));

        // The grid's API is under its prefix, with problem+json for its own errors; the service's routes are untouched.
        using var missing = await http.GetAsync("grid/kv/orders/2");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("kv/orders/1")).StatusCode);
        Assert.Equal("service", await http.GetStringAsync("hello"));
        using var boom = await http.GetAsync("boom");
        Assert.Equal(HttpStatusCode.InternalServerError, boom.StatusCode);
        Assert.NotEqual("application/problem+json", boom.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Invalid_grid_configuration_fails_the_host_start_with_one_line_naming_the_key()
    {
        // Mapping the endpoints reads the options already, so the failure may come before StartAsync: either way, at start.
        var error = await Assert.ThrowsAsync<ActorGridConfigurationException>(async () =>
        {
            await using var app = Build("embedded-bad", ("ActorGrid:ClusterName", "embedded-bad"), ("ActorGrid:Broker:MaxShards", "0"));
            await app.StartAsync();
        });

        Assert.Equal("Invalid configuration: ActorGrid:Broker:MaxShards must be positive (got 0)", error.Message);
    }

    private static WebApplication Build(string systemName, params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(
            [
                new("ActorGrid:Port", "0"),
                new("ActorGrid:DataDir", Path.Combine(Path.GetTempPath(), "actorgrid-tests", systemName + "-" + Guid.NewGuid().ToString("N")[..6])),
                .. settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)),
            ]);
        builder.Services.AddProblemDetails();
        builder.Services.AddActorGridServices(builder.Configuration, grid => grid.WithKeyValue().WithBroker());
        builder.Services.AddAkka(systemName, (akka, services) => akka
            .WithActorGrid(services)
            .WithActors((system, registry) => registry.Register<Echo>(system.ActorOf(Props.Create<Echo>(), "echo"))));

        var app = builder.Build();
        app.MapGet("/hello", () => "service");
        app.MapGet("/boom", string () => throw new InvalidOperationException("the service's own failure"));
        app.MapActorGrid("/grid");
        return app;
    }

    /// <summary>The service's own actor.</summary>
    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<string>(s => Sender.Tell(s));
    }
}
