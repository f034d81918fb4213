#nullable enable
using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Threading.Channels;
using ActorGrid.Kafka.Protocol;
using ActorGrid.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using static ActorGrid.Broker.BrokerProtocol;

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

    /// <summary>Most partitions with a page read ahead at once on one connection (each page is at most one partition fetch).</summary>
    public const int MaxReadAheads = 16;

    /// <summary>How long a page read ahead may wait for its fetch; an older one is read again (its end offset is stale).</summary>
    public static readonly TimeSpan ReadAheadLifetime = TimeSpan.FromSeconds(2);

    private readonly Dictionary<(string Topic, int Partition), (long Offset, long StartedAt, Task<FetchResult> Page)> _readAheads = [];

    /// <summary>
    /// Keeps <paramref name="page"/>, the read of <paramref name="topic"/>/<paramref name="partition"/> from
    /// <paramref name="offset"/> started for the consumer's next fetch (replacing an older one), unless
    /// <see cref="MaxReadAheads"/> other partitions have one already.
    /// </summary>
    public void ReadAhead(string topic, int partition, long offset, Task<FetchResult> page)
    {
        _ = page.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        lock (_readAheads)
        {
            if (_readAheads.Count < MaxReadAheads || _readAheads.ContainsKey((topic, partition)))
            {
                _readAheads[(topic, partition)] = (offset, Stopwatch.GetTimestamp(), page);
            }
        }
    }

    /// <summary>The page read ahead for a fetch of <paramref name="topic"/>/<paramref name="partition"/> from <paramref name="offset"/>, if one is kept, fresh and not failed; it is kept no longer.</summary>
    public Task<FetchResult>? TakeReadAhead(string topic, int partition, long offset)
    {
        lock (_readAheads)
        {
            if (!_readAheads.Remove((topic, partition), out var ahead))
            {
                return null;
            }

            return ahead.Offset == offset && Stopwatch.GetElapsedTime(ahead.StartedAt) < ReadAheadLifetime && !ahead.Page.IsFaulted && !ahead.Page.IsCanceled
                ? ahead.Page
                : null;
        }
    }
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
            while (TryReadFrame(ref buffer, out var frame, out var length))
            {
                Task<KafkaWriter?> response;
                KafkaRequestHeader header;
                try
                {
                    (header, var body) = ReadHeader(frame.AsMemory(0, length));
                    response = apis.HandleAsync(header, body, session, cancellationToken);
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(frame);
                    throw;
                }

                // The request is read by the time its handler completes (what it keeps, it copied): the frame goes back then.
                _ = response.ContinueWith(static (_, f) => ArrayPool<byte>.Shared.Return((byte[])f!), frame, CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                await responses.WriteAsync((header, response), cancellationToken);
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (read.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>The next request of <paramref name="buffer"/> in a pooled array (<paramref name="length"/> bytes of it), if all of it arrived.</summary>
    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out byte[] frame, out int length)
    {
        frame = [];
        length = 0;
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> prefix = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(prefix);
        length = BinaryPrimitives.ReadInt32BigEndian(prefix);
        if (length is < 8 or > MaxRequestBytes)
        {
            throw new KafkaProtocolException($"request size {length} is outside 8..{MaxRequestBytes}");
        }

        if (buffer.Length < 4 + length)
        {
            return false;
        }

        // Produce requests are up to a megabyte and more: pooled, they are not large-object-heap garbage each.
        frame = ArrayPool<byte>.Shared.Rent(length);
        buffer.Slice(4, length).CopyTo(frame);
        buffer = buffer.Slice(4 + length);
        return true;
    }

    private static (KafkaRequestHeader Header, KafkaReader Body) ReadHeader(ReadOnlyMemory<byte> frame)
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
