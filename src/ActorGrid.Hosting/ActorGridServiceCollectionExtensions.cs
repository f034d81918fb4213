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
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace ActorGrid.Hosting;

/// <summary>Adds an ActorGrid node to a Generic Host or ASP.NET Core service.</summary>
public static class ActorGridServiceCollectionExtensions
{
    /// <summary>
    /// Adds a node with its own actor system: <see cref="AddActorGridServices(IServiceCollection, IConfiguration, Action{ActorGridBuilder})"/>
    /// and <c>AddAkka(ActorGrid:ClusterName, (akka, sp) =&gt; akka.WithActorGrid(sp))</c>. A service with an actor system of
    /// its own calls those two itself instead (see docs/embedding.md).
    /// </summary>
    public static IServiceCollection AddActorGrid(this IServiceCollection services, IConfiguration configuration, Action<ActorGridBuilder> configure)
    {
        services.AddActorGridServices(configuration, configure);
        // Only the name is read now; the section is bound and validated when the host starts.
        var name = configuration[$"{ActorGridOptions.SectionName}:{nameof(ActorGridOptions.ClusterName)}"] is { Length: > 0 } n ? n : new ActorGridOptions().ClusterName;
        return services.AddAkka(name, (akka, provider) => akka.WithActorGrid(provider));
    }

    /// <summary>Adds a node with <paramref name="options"/> (instead of configuration) and its own actor system.</summary>
    public static IServiceCollection AddActorGrid(this IServiceCollection services, ActorGridOptions options, Action<ActorGridBuilder> configure)
    {
        ActorGridOptionsValidator.ThrowIfInvalid(options);
        services.AddActorGridServices(_ => options, configure, options.Observability);
        return services.AddAkka(options.ClusterName, (akka, provider) => akka.WithActorGrid(provider));
    }

    /// <summary>
    /// Registers everything an ActorGrid node needs except the actor system: <see cref="IOptions{ActorGridOptions}"/>
    /// bound from the <c>ActorGrid</c> section of <paramref name="configuration"/> and validated when the host starts
    /// (unknown keys and bad values fail the start with one line naming the key), the roles
    /// <paramref name="configure"/> adds with their services, the journal check and the stop of the process when the
    /// split-brain resolver downs the node. Then add the grid to the service's own actor system with
    /// <c>services.AddAkka(name, (akka, sp) =&gt; akka.WithActorGrid(sp))</c>.
    /// </summary>
    public static IServiceCollection AddActorGridServices(this IServiceCollection services, IConfiguration configuration, Action<ActorGridBuilder> configure) =>
        services.AddActorGridServices(
            _ => ActorGridOptionsValidator.Bind(configuration),
            configure,
            // Which exporters to register is decided now; the rest of the section is bound and validated at start.
            configuration.GetSection($"{ActorGridOptions.SectionName}:{nameof(ActorGridOptions.Observability)}").Get<ObservabilityOptions>() ?? new());

    private static IServiceCollection AddActorGridServices(
        this IServiceCollection services, Func<IServiceProvider, ActorGridOptions> bind, Action<ActorGridBuilder> configure, ObservabilityOptions observability)
    {
        if (services.Any(d => d.ServiceType == typeof(ActorGridBuilder)))
        {
            throw new InvalidOperationException("ActorGrid is already added to these services");
        }

        var grid = new ActorGridBuilder();
        configure(grid);
        services.AddSingleton(grid);
        services.AddSingleton<IOptionsFactory<ActorGridOptions>>(sp => new BindingFactory(() => bind(sp)));
        services.AddOptions<ActorGridOptions>().ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<ActorGridOptions>>().Value);
        services.AddSingleton(sp => GridContext.For(sp.GetRequiredService<ActorGridOptions>(), grid));
        foreach (var role in grid.Roles)
        {
            role.AddServices(services);
        }

        // Journal and tokens-file checks must fail the start before the node joins: ahead of Akka's hosted service
        // even when the service called AddAkka first.
        var journal = ServiceDescriptor.Singleton<IHostedService, StartupChecks>();
        var akka = services.ToList().FindIndex(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(AkkaHostedService));
        if (akka >= 0)
        {
            services.Insert(akka, journal);
        }
        else
        {
            services.Add(journal);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, StopWhenActorSystemTerminates>());
        services.AddActorGridSecurity();
        services.AddActorGridObservability(observability);
        // A document of its own, so that the grid's API and the service's own are described apart.
        services.AddOpenApi(ActorGridWebApplicationExtensions.ApiDocumentName, openApi => openApi.AddOperationTransformer(async (operation, context, ct) =>
        {
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<Http.RequestBodyDescription>().FirstOrDefault() is { } body)
            {
                operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>
                    {
                        [body.ContentType] = new() { Schema = await context.GetOrCreateSchemaAsync(body.Type, null, ct) },
                    },
                };
            }
        }));
        services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(45));
        return services;
    }

    /// <summary>Bearer tokens on the HTTP API and, with <c>Security:Https</c>, TLS on every Kestrel endpoint (SPEC §11).</summary>
    private static void AddActorGridSecurity(this IServiceCollection services)
    {
        services.AddSingleton(sp => TokenStore.For(sp.GetRequiredService<ActorGridOptions>()));
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, GridBearerAuthentication>(GridIdentity.SchemeName, null);
        services.AddAuthorization(authorization => authorization.AddPolicy(GridBearerAuthentication.PolicyName, policy =>
            policy.AddAuthenticationSchemes(GridIdentity.SchemeName).RequireAuthenticatedUser()));
        services.AddOptions<KestrelServerOptions>().Configure<ActorGridOptions>((kestrel, options) =>
        {
            if (options.Security.Https is { Certificate: { } certificate } https)
            {
                var serverCertificate = RemotingTls.LoadCertificate(certificate, https.PrivateKey, https.Password, "Https");
                kestrel.ConfigureEndpointDefaults(listen => listen.UseHttps(serverCertificate));
            }
        });
    }

    /// <summary>
    /// Binds the options once, throwing <see cref="ActorGridConfigurationException"/> (one line naming the key) for
    /// unknown keys and bad values; <c>ValidateOnStart</c> makes that happen as the host starts.
    /// </summary>
    private sealed class BindingFactory(Func<ActorGridOptions> bind) : IOptionsFactory<ActorGridOptions>
    {
        public ActorGridOptions Create(string name) => bind();
    }

    /// <summary>What must fail the start rather than the first request: the tokens file, then the journal.</summary>
    private sealed class StartupChecks(ActorGridOptions options, IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            // Creating the token store reads the tokens file; the remoting certificates are read before the node joins.
            services.GetRequiredService<TokenStore>();
            if (options.Security.Tls is { } tls)
            {
                RemotingTls.Setup(tls);
            }

            return JournalPreparation.PrepareAsync(options, cancellationToken);
        }

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
