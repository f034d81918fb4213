#nullable enable
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace ActorGrid.Client.Resilience;

/// <summary>The client's resilience pipeline: a total timeout, retries of what is safe, and a timeout per attempt.</summary>
public static class ActorGridResilience
{
    /// <summary>Adds the strategies for <paramref name="options"/> to <paramref name="pipeline"/>.</summary>
    public static ResiliencePipelineBuilder<HttpResponseMessage> AddActorGridStrategies(
        this ResiliencePipelineBuilder<HttpResponseMessage> pipeline, ActorGridClientOptions options) => pipeline
        .AddTimeout(options.TotalTimeout)
        .AddRetry(new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(1, options.MaxRetryAttempts),
            Delay = options.RetryDelay,
            MaxDelay = options.MaxRetryDelay,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            // A node that answers 503 says when to come back.
            ShouldRetryAfterHeader = true,
            ShouldHandle = args => ValueTask.FromResult(
                options.MaxRetryAttempts > 0 && RetrySafety.ShouldRetry(args.Outcome, args.Context.GetRequestMessage())),
        })
        .AddTimeout(options.AttemptTimeout);

    /// <summary>
    /// The handler chain of a client built without dependency injection: the pipeline around node failover around
    /// <paramref name="transport"/>.
    /// </summary>
    public static HttpMessageHandler CreateHandler(ActorGridClientOptions options, NodeRotation nodes, HttpMessageHandler transport) =>
        new ResilienceHandler(new ResiliencePipelineBuilder<HttpResponseMessage>().AddActorGridStrategies(options).Build())
        {
            InnerHandler = new NodeFailoverHandler(nodes) { InnerHandler = transport },
        };
}
