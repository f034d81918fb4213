#nullable enable
using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Threading.Channels;
using ActorGrid.Kafka.Protocol;
using ActorGrid.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace ActorGrid.Kafka;

/// <summary>A request's header (v1, or v2 with tagged fields in flexible versions).</summary>
internal sealed record KafkaRequestHeader(ApiKey ApiKey, short ApiVersion, int CorrelationId, string? ClientId, bool Flexible);

/// <summary>One client connection's state: its authentication and the order of its produce requests.</summary>
internal sealed class KafkaSession(string remote)
{
    /// <summary>The client's address (ClientHost in DescribeGroups).</summary>
    public string Remote { get; } = remote;

    /// <summary>The client id of the latest request.</summary>
    public string ClientId { get; set; } = "";

    /// <summary>The mechanism chosen by SaslHandshake, if any.</summary>
    public string? SaslMechanism { get; set; }

    /// <summary>The principal SASL authenticated, if any.</summary>
    public GridPrincipal? Principal { get; set; }

    /// <summary>
    /// The Kafka error for <paramref name="access"/> to <paramref name="kind"/> <paramref name="name"/>, by the rules
    /// every door uses (<see cref="GridAuthorization"/>): none when allowed, else GROUP_AUTHORIZATION_FAILED for a
    /// group and TOPIC_AUTHORIZATION_FAILED for a topic. Without SASL (a node with no tokens) everything is allowed.
    /// </summary>
    public short Deny(GridAccess access, string kind, string name) =>
        GridAuthorization.Authorize(Principal ?? GridPrincipal.Unauthenticated, access, kind, name) is null ? KafkaError.None
        : kind == GridResource.Group ? KafkaError.GroupAuthorizationFailed
        : KafkaError.TopicAuthorizationFailed;

    /// <summary>Completes when the previous produce request has sent its appends (appends leave in request order).</summary>
    public Task ProduceSent { get; set; } = Task.CompletedTask;
}

/// <summary>
/// One Kafka client connection over System.IO.Pipelines: reads size-prefixed requests, starts each as soon as it is
/// read (a long-polling fetch does not hold up a produce behind it) and writes the responses in request order, as
/// the protocol requires.
/// </summary>
internal sealed class KafkaConnectionHandler(KafkaApiHandler apis, ILogger<KafkaConnectionHandler> log) : ConnectionHandler
{
    private const int MaxRequestBytes = 100 * 1024 * 1024;
    private const int MaxInFlight = 64;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var session = new KafkaSession(connection.RemoteEndPoint?.ToString() ?? "");
        var responses = Channel.CreateBounded<(KafkaRequestHeader Header, Task<KafkaWriter?> Body)>(
            new BoundedChannelOptions(MaxInFlight) { SingleReader = true, SingleWriter = true });
        using var closing = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        var writer = WriteResponsesAsync(responses.Reader, connection.Transport.Output, closing);
        try
        {
            await ReadRequestsAsync(connection.Transport.Input, responses.Writer, session, closing.Token);
        }
        catch (KafkaProtocolException e)
        {
            log.LogWarning("Closing Kafka connection from {Remote}: {Reason}", session.Remote, e.Message);
        }
        catch (Exception e) when (e is OperationCanceledException or ConnectionResetException or IOException)
        {
        }
        finally
        {
            responses.Writer.TryComplete();
        }

        await writer;
    }

    private async Task ReadRequestsAsync(PipeReader input, ChannelWriter<(KafkaRequestHeader, Task<KafkaWriter?>)> responses, KafkaSession session, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await input.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            while (TryReadFrame(ref buffer, out var frame))
            {
                var (header, body) = ReadHeader(frame);
                await responses.WriteAsync((header, apis.HandleAsync(header, body, session, cancellationToken)), cancellationToken);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                return;
            }
        }
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out byte[] frame)
    {
        frame = [];
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        var length = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (length is < 8 or > MaxRequestBytes)
        {
            throw new KafkaProtocolException($"request size {length} is outside 8..{MaxRequestBytes}");
        }

        if (buffer.Length < 4 + length)
        {
            return false;
        }

        frame = buffer.Slice(4, length).ToArray();
        buffer = buffer.Slice(4 + length);
        return true;
    }

    private static (KafkaRequestHeader Header, KafkaReader Body) ReadHeader(byte[] frame)
    {
        var reader = new KafkaReader(frame);
        var key = (ApiKey)reader.Int16();
        var version = reader.Int16();
        var correlationId = reader.Int32();
        var clientId = reader.NullableString(flexible: false);
        var flexible = KafkaApiVersions.All.TryGetValue(key, out var range) && range.Supports(version) && range.IsFlexible(version);
        reader.TaggedFields(flexible);
        return (new KafkaRequestHeader(key, version, correlationId, clientId, flexible), reader);
    }

    private async Task WriteResponsesAsync(ChannelReader<(KafkaRequestHeader Header, Task<KafkaWriter?> Body)> responses, PipeWriter output, CancellationTokenSource closing)
    {
        try
        {
            await foreach (var (header, pending) in responses.ReadAllAsync())
            {
                var body = await pending;
                if (body is null)
                {
                    continue; // acks=0: no response
                }

                // ApiVersions answers with header v0 even in its flexible version, so that any client can read it.
                var tagged = header.Flexible && header.ApiKey != ApiKey.ApiVersions;
                var head = output.GetSpan(9);
                BinaryPrimitives.WriteInt32BigEndian(head, body.Length + 4 + (tagged ? 1 : 0));
                BinaryPrimitives.WriteInt32BigEndian(head[4..], header.CorrelationId);
                if (tagged)
                {
                    head[8] = 0;
                }

                output.Advance(tagged ? 9 : 8);
                output.Write(body.Written.Span);
                if (!responses.TryPeek(out _))
                {
                    await output.FlushAsync();
                }
            }

            await output.FlushAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            if (e is not (KafkaProtocolException or IOException or ConnectionResetException))
            {
                log.LogError(e, "Kafka request failed; closing the connection");
            }
            else if (e is KafkaProtocolException)
            {
                log.LogWarning("Closing Kafka connection: {Reason}", e.Message);
            }

            closing.Cancel();
        }
        finally
        {
            await output.CompleteAsync();
        }
    }
}
