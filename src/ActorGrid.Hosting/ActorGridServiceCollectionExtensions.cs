#nullable enable
using ActorGrid.Configuration;
using ActorGrid.Grid;
using ActorGrid.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using ActorGrid.Hosting.Observability;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ActorGrid.Hosting;

/// <summary>Adds an ActorGrid node to a Generic Host or ASP.NET Core service.</summary>
public static class ActorGridServiceCollectionExtensions
{
    /// <summary>
    /// Binds the <c>ActorGrid</c> section of <paramref name="configuration"/> (failing at once, naming the key, when
    /// it is invalid) and adds a node with the roles that <paramref name="configure"/> adds.
    /// </summary>
    public static IServiceCollection AddActorGrid(this IServiceCollection services, IConfiguration configuration, Action<ActorGridBuilder> configure) =>
        services.AddActorGrid(ActorGridOptionsValidator.Bind(configuration), configure);

    /// <summary>Adds a node with <paramref name="options"/> and the roles that <paramref name="configure"/> adds.</summary>
    public static IServiceCollection AddActorGrid(this IServiceCollection services, ActorGridOptions options, Action<ActorGridBuilder> configure)
    {
        ActorGridOptionsValidator.ThrowIfInvalid(options);
        var grid = new ActorGridBuilder();
        configure(grid);

        services.AddSingleton(options);
        services.AddSingleton(grid);
        var context = GridContext.For(options, grid);
        foreach (var role in grid.Roles)
        {
            role.AddServices(services, context);
        }

        // Registered before Akka's hosted service so that journal checks fail the start before the node joins.
        services.AddHostedService<JournalPreparationService>();
        services.AddAkka(options.ClusterName, akka => akka.WithActorGrid(options, grid));
        services.AddHostedService<StopWhenActorSystemTerminates>();
        services.AddActorGridSecurity(options);
        services.AddActorGridObservability(options);
        services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(45));
        return services;
    }

    /// <summary>Bearer tokens on the HTTP API and, with <c>Security:Https</c>, TLS on every Kestrel endpoint (SPEC §11).</summary>
    private static void AddActorGridSecurity(this IServiceCollection services, ActorGridOptions options)
    {
        services.AddSingleton(TokenStore.For(options));
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, GridBearerAuthentication>(GridIdentity.SchemeName, null);
        services.AddAuthorization(authorization => authorization.AddPolicy(GridBearerAuthentication.PolicyName, policy =>
            policy.AddAuthenticationSchemes(GridIdentity.SchemeName).RequireAuthenticatedUser()));
        if (options.Security.Https is { Certificate: { } certificate } https)
        {
            var serverCertificate = RemotingTls.LoadCertificate(certificate, https.PrivateKey, https.Password, "Https");
            services.Configure<KestrelServerOptions>(kestrel => kestrel.ConfigureEndpointDefaults(listen => listen.UseHttps(serverCertificate)));
        }
    }

    private sealed class JournalPreparationService(ActorGridOptions options) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => JournalPreparation.PrepareAsync(options, cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>A node downed by the split-brain resolver terminates its actor system; the process must follow.</summary>
    private sealed class StopWhenActorSystemTerminates(ActorSystem system, IHostApplicationLifetime lifetime) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            system.WhenTerminated.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
