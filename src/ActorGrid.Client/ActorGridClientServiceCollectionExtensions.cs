#nullable enable
using ActorGrid.Client.Resilience;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ActorGrid.Client;

/// <summary>Registers the ActorGrid client in a service container.</summary>
public static class ActorGridClientServiceCollectionExtensions
{
    /// <summary>The name of the <see cref="HttpClient"/> the typed clients share (configure it further through the returned builder).</summary>
    public const string HttpClientName = "ActorGrid";

    /// <summary>
    /// Registers <see cref="IActorGridClient"/>, <see cref="IKvClient"/>, <see cref="IBrokerClient"/>,
    /// <see cref="IJobsClient"/> and <see cref="IClusterClient"/> as typed clients of one <see cref="IHttpClientFactory"/>
    /// client: each call goes to the current node of <see cref="ActorGridClientOptions.Nodes"/> and moves to the next
    /// when a node cannot be reached or cannot serve; what is safe to repeat is retried (honouring <c>Retry-After</c>).
    /// Every call carries <see cref="ActorGridClientOptions.Token"/> as a bearer token, and HTTPS trusts
    /// <see cref="ActorGridClientOptions.CaCertificatePath"/> (a primary handler configured later replaces that).
    /// Invalid options fail the host's start with one line naming the key.
    /// </summary>
    /// <example><code>services.AddActorGridClient(o => o.Nodes = [new("http://node-1:5080"), new("http://node-2:5080")]);</code></example>
    public static IHttpClientBuilder AddActorGridClient(this IServiceCollection services, Action<ActorGridClientOptions> configure)
    {
        services.AddOptions<ActorGridClientOptions>().Configure(configure);
        return services.AddActorGridClientCore();
    }

    /// <summary>As <see cref="AddActorGridClient(IServiceCollection, Action{ActorGridClientOptions})"/>, binding the options from <paramref name="section"/> (e.g. <c>configuration.GetSection("ActorGridClient")</c>).</summary>
    public static IHttpClientBuilder AddActorGridClient(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<ActorGridClientOptions>().Bind(section, o => o.ErrorOnUnknownConfiguration = true);
        return services.AddActorGridClientCore();
    }

    /// <summary>
    /// A producer that numbers its records itself (one producer id, increasing sequences: retries never duplicate)
    /// and batches what arrives within <see cref="ActorGridProducerOptions.Linger"/>. One per service, as with Kafka.
    /// </summary>
    public static IServiceCollection AddActorGridProducer(this IServiceCollection services, Action<ActorGridProducerOptions>? configure = null)
    {
        services.AddOptions<ActorGridProducerOptions>().Configure(o => configure?.Invoke(o));
        services.TryAddSingleton<IActorGridProducer>(sp =>
            new ActorGridProducer(sp.GetRequiredService<IBrokerClient>(), sp.GetRequiredService<IOptions<ActorGridProducerOptions>>().Value));
        return services;
    }

    private static IHttpClientBuilder AddActorGridClientCore(this IServiceCollection services)
    {
        services.AddOptions<ActorGridClientOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ActorGridClientOptions>, OneLineValidation>());
        services.TryAddSingleton(sp => new NodeRotation(sp.GetRequiredService<IOptions<ActorGridClientOptions>>().Value.Nodes));
        services.TryAddTransient<NodeFailoverHandler>();

        var builder = services.AddHttpClient(HttpClientName, (sp, http) =>
            {
                http.BaseAddress = sp.GetRequiredService<NodeRotation>().Nodes[0];
                // The resilience pipeline's total timeout bounds each call; long-poll bodies must not be cut by a second clock.
                http.Timeout = Timeout.InfiniteTimeSpan;
                NodeTransport.Authorize(http, sp.GetRequiredService<IOptions<ActorGridClientOptions>>().Value);
            })
            .ConfigurePrimaryHttpMessageHandler(sp => NodeTransport.CreateHandler(sp.GetRequiredService<IOptions<ActorGridClientOptions>>().Value));
        // Outer first: the retries of one call pass through the failover handler, which sends each to the current node.
        builder.AddResilienceHandler("actorgrid", (pipeline, context) =>
            pipeline.AddActorGridStrategies(context.ServiceProvider.GetRequiredService<IOptions<ActorGridClientOptions>>().Value));
        builder.AddHttpMessageHandler<NodeFailoverHandler>();

        services.AddHttpClient<IClusterClient, ClusterClient>(HttpClientName);
        services.AddHttpClient<IKvClient, KvClient>(HttpClientName);
        services.AddHttpClient<IBrokerClient, BrokerClient>(HttpClientName);
        services.AddHttpClient<IJobsClient, JobsClient>(HttpClientName);
        services.TryAddTransient<IActorGridClient>(sp => new ActorGridClient(
            sp.GetRequiredService<IClusterClient>(), sp.GetRequiredService<IKvClient>(),
            sp.GetRequiredService<IBrokerClient>(), sp.GetRequiredService<IJobsClient>()));
        return builder;
    }

    /// <summary>Fails validation with the options' own one-line message (the key and the bad value).</summary>
    private sealed class OneLineValidation : IValidateOptions<ActorGridClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, ActorGridClientOptions options) =>
            options.Validate() is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
