#nullable enable
using ActorGrid.Broker.Gateway;
using ActorGrid.Configuration;
using ActorGrid.Kafka.Protocol;
using ActorGrid.Security;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Kafka;

/// <summary>
/// Serves each Kafka API over the broker gateway: parses the request for its version, calls the gateway and writes
/// the response for the same version. One partial file per API family under <c>Apis/</c>.
/// </summary>
internal sealed partial class KafkaApiHandler(
    BrokerGateway gateway, KafkaBrokers brokers, ActorGridOptions options, ILogger<KafkaApiHandler> log, IServiceProvider services)
{
    private readonly IKafkaAuthenticator _authenticator = services.GetService<IKafkaAuthenticator>()
        ?? (services.GetService<TokenStore>() is { } tokens ? new TokenAuthenticator(tokens) : IKafkaAuthenticator.Open);

    /// <summary>
    /// Starts serving one request; the returned task is its response body (null: none, for acks=0). Runs
    /// synchronously up to its first wait, so requests start in the order they were read.
    /// </summary>
    public Task<KafkaWriter?> HandleAsync(KafkaRequestHeader header, KafkaReader body, KafkaSession session, CancellationToken cancellationToken)
    {
        if (!KafkaApiVersions.All.TryGetValue(header.ApiKey, out var range) || !range.Supports(header.ApiVersion))
        {
            return Task.FromResult<KafkaWriter?>(Unsupported(header));
        }

        if (_authenticator.Required && session.Principal is null
            && header.ApiKey is not (ApiKey.ApiVersions or ApiKey.SaslHandshake or ApiKey.SaslAuthenticate))
        {
            throw new KafkaProtocolException($"{header.ApiKey} before SASL authentication");
        }

        session.ClientId = header.ClientId ?? "";
        var v = header.ApiVersion;
        var flex = header.Flexible;
        return header.ApiKey switch
        {
            ApiKey.ApiVersions => Task.FromResult<KafkaWriter?>(ApiVersions(v, body)),
            ApiKey.Metadata => Wrap(MetadataAsync(v, flex, body, session, cancellationToken)),
            ApiKey.Produce => ProduceAsync(v, body, session, cancellationToken),
            ApiKey.Fetch => Wrap(FetchAsync(v, body, session, cancellationToken)),
            ApiKey.ListOffsets => Wrap(ListOffsetsAsync(v, body, session, cancellationToken)),
            ApiKey.FindCoordinator => Task.FromResult<KafkaWriter?>(FindCoordinator(v, body)),
            ApiKey.JoinGroup => Wrap(JoinGroupAsync(v, body, session, cancellationToken)),
            ApiKey.SyncGroup => Wrap(SyncGroupAsync(v, body, session, cancellationToken)),
            ApiKey.Heartbeat => Wrap(HeartbeatAsync(v, body, session, cancellationToken)),
            ApiKey.LeaveGroup => Wrap(LeaveGroupAsync(v, body, session, cancellationToken)),
            ApiKey.OffsetCommit => Wrap(OffsetCommitAsync(v, body, session, cancellationToken)),
            ApiKey.OffsetFetch => Wrap(OffsetFetchAsync(v, body, session, cancellationToken)),
            ApiKey.DescribeGroups => Wrap(DescribeGroupsAsync(v, body, session, cancellationToken)),
            ApiKey.ListGroups => Wrap(ListGroupsAsync(v, session, cancellationToken)),
            ApiKey.InitProducerId => Task.FromResult<KafkaWriter?>(InitProducerId(v, body)),
            ApiKey.CreateTopics => Wrap(CreateTopicsAsync(v, body, session, cancellationToken)),
            ApiKey.DeleteTopics => Wrap(DeleteTopicsAsync(v, body, session, cancellationToken)),
            ApiKey.SaslHandshake => Task.FromResult<KafkaWriter?>(SaslHandshake(body, session)),
            ApiKey.SaslAuthenticate => Wrap(SaslAuthenticateAsync(v, body, session)),
            _ => Task.FromResult<KafkaWriter?>(Unsupported(header)),
        };
    }

    private static async Task<KafkaWriter?> Wrap(Task<KafkaWriter> response) => await response;

    /// <summary>
    /// A version (or API) not served: ApiVersions answers in its v0 layout with UNSUPPORTED_VERSION and the ranges
    /// served (the client then retries with one of them); any other API gets the error code alone, the connection stays.
    /// </summary>
    private static KafkaWriter Unsupported(KafkaRequestHeader header)
    {
        var w = new KafkaWriter();
        w.Int16(KafkaError.UnsupportedVersion);
        if (header.ApiKey == ApiKey.ApiVersions)
        {
            WriteApiKeys(w, flexible: false);
        }

        return w;
    }

    private static KafkaWriter ApiVersions(short v, KafkaReader body)
    {
        var flex = v >= 3;
        if (flex)
        {
            body.NullableString(true); // client software name
            body.NullableString(true); // client software version
            body.TaggedFields(true);
        }

        var w = new KafkaWriter();
        w.Int16(KafkaError.None);
        WriteApiKeys(w, flex);
        if (v >= 1)
        {
            w.Int32(0);
        }

        return w.TaggedFields(flex);
    }

    private static void WriteApiKeys(KafkaWriter w, bool flexible) =>
        w.Array(KafkaApiVersions.All.Values.OrderBy(r => r.Key).ToList(), flexible, (w, r) =>
            w.Int16((short)r.Key).Int16(r.Min).Int16(r.Max).TaggedFields(flexible));

    /// <summary>The Kafka error code for a gateway refusal.</summary>
    private static short ErrorCode(Exception e, short unavailable = KafkaError.NotLeaderOrFollower) => e switch
    {
        BrokerRequestException { Code: BrokerErrorCode.TopicNotFound } => KafkaError.UnknownTopicOrPartition,
        BrokerRequestException { Code: BrokerErrorCode.OffsetOutOfRange } => KafkaError.OffsetOutOfRange,
        BrokerRequestException { Code: BrokerErrorCode.SequenceConflict } => KafkaError.OutOfOrderSequenceNumber,
        BrokerRequestException { Status: 404 } => KafkaError.UnknownTopicOrPartition,
        BrokerRequestException { Status: 413 } => KafkaError.MessageTooLarge,
        BrokerRequestException { Status: 503 } => unavailable,
        BrokerRequestException => KafkaError.InvalidRequest,
        AskTimeoutException or TimeoutException or TaskCanceledException => unavailable,
        _ => KafkaError.UnknownServerError,
    };

    private void LogUnexpected(Exception e, string api)
    {
        if (e is not (BrokerRequestException or AskTimeoutException or TimeoutException or OperationCanceledException))
        {
            log.LogError(e, "Kafka {Api} failed", api);
        }
    }
}

/// <summary>
/// Checks SASL/PLAIN credentials (SPEC §11: the password is a bearer token). With none registered, the door is
/// open: SASL is accepted with any credentials and not required.
/// </summary>
public interface IKafkaAuthenticator
{
    /// <summary>A door without authentication.</summary>
    public static readonly IKafkaAuthenticator Open = new OpenAuthenticator();

    /// <summary>Whether clients must authenticate before any request but ApiVersions and SASL.</summary>
    bool Required { get; }

    /// <summary>The principal for <paramref name="user"/> with <paramref name="password"/>, or null when refused.</summary>
    ValueTask<GridPrincipal?> AuthenticatePlainAsync(string user, string password, CancellationToken cancellationToken);

    private sealed class OpenAuthenticator : IKafkaAuthenticator
    {
        public bool Required => false;

        public ValueTask<GridPrincipal?> AuthenticatePlainAsync(string user, string password, CancellationToken cancellationToken) =>
            ValueTask.FromResult<GridPrincipal?>(user.Length == 0 ? GridPrincipal.Unauthenticated : GridPrincipal.Unauthenticated with { Id = user });
    }
}

/// <summary>SASL/PLAIN against the node's token store (SPEC §11): the password is a token of <c>Security:TokensFile</c>.</summary>
internal sealed class TokenAuthenticator(TokenStore tokens) : IKafkaAuthenticator
{
    /// <inheritdoc />
    public bool Required => tokens.RequiresToken;

    /// <inheritdoc />
    public ValueTask<GridPrincipal?> AuthenticatePlainAsync(string user, string password, CancellationToken cancellationToken) =>
        ValueTask.FromResult(tokens.Authenticate(password));
}
