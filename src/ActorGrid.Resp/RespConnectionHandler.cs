#nullable enable
using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace ActorGrid.Resp;

/// <summary>
/// Serves one RESP connection accepted by Kestrel: reads what arrived, parses every complete command in it (up to
/// the pipeline depth), runs them — neighbouring reads together, neighbouring writes together, anything else alone
/// — writes the replies in order and flushes once per read. Bad input gets an error reply and the connection
/// stays; only framing that cannot be resynchronized closes it, after the error, as Redis does.
/// </summary>
public sealed class RespConnectionHandler(RespFrontDoor door) : ConnectionHandler
{
    /// <inheritdoc />
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var session = new RespSession(door, door.NextClientId(), connection.RemoteEndPoint?.ToString(), connection.ConnectionClosed);
        var parser = new RespParser(door.Limits);
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        var requests = new List<RespRequest>();
        var replies = new List<ValueTask<RespValue>>();
        door.Connected(session);
        try
        {
            while (!session.Closing)
            {
                var read = await input.ReadAsync(connection.ConnectionClosed);
                var buffer = read.Buffer;
                var (count, broken, consumed) = Parse(parser, buffer, requests, door.Limits.MaxPipelineDepth);
                await RunAsync(session, requests, count, replies, output);
                if (broken)
                {
                    RespValue.Error("ERR " + parser.ProtocolErrorMessage).WriteTo(output, session.Protocol);
                    session.Closing = true;
                }

                // At the depth limit the rest of the buffer is already here: look at it again without waiting.
                if (count == door.Limits.MaxPipelineDepth)
                {
                    input.AdvanceTo(consumed);
                }
                else
                {
                    input.AdvanceTo(consumed, buffer.End);
                }

                var flushed = await output.FlushAsync(connection.ConnectionClosed);
                if (read.IsCompleted || flushed.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        catch (ConnectionResetException)
        {
            // The client went away.
        }
        catch (Exception e)
        {
            door.Logger.LogWarning(e, "RESP connection {ConnectionId} from {Remote} failed", session.Id, session.Remote);
        }
        finally
        {
            door.Disconnected(session);
            await input.CompleteAsync();
            await output.CompleteAsync();
        }
    }

    // Every complete request in the buffer, up to the depth limit; their arguments stay slices of the buffer.
    private static (int Count, bool Broken, SequencePosition Consumed) Parse(RespParser parser, ReadOnlySequence<byte> buffer, List<RespRequest> requests, int depth)
    {
        var reader = new SequenceReader<byte>(buffer);
        var count = 0;
        while (count < depth)
        {
            if (count == requests.Count)
            {
                requests.Add(new RespRequest());
            }

            var status = parser.TryParse(ref reader, requests[count]);
            if (status == ParseStatus.Incomplete)
            {
                break;
            }

            if (status == ParseStatus.ProtocolError)
            {
                return (count, true, reader.Position);
            }

            count++;
        }

        return (count, false, reader.Position);
    }

    private static async ValueTask RunAsync(RespSession session, List<RespRequest> requests, int count, List<ValueTask<RespValue>> replies, PipeWriter output)
    {
        replies.Clear();
        CommandClass? running = null;
        for (var i = 0; i < count; i++)
        {
            var request = requests[i];
            var cls = session.Classify(request);
            if (running is { } current && (cls == CommandClass.Other || cls != current))
            {
                // A read after a write must see it; anything else runs alone: answer what is running first.
                await DrainAsync(session, replies, output);
                running = null;
            }

            session.LastCommand = request.Command?.Name;
            var reply = session.DispatchAsync(request);
            if (cls == CommandClass.Other)
            {
                Write(session, reply.IsCompletedSuccessfully ? reply.Result : await reply, output);
            }
            else
            {
                replies.Add(reply);
                running = cls;
            }
        }

        await DrainAsync(session, replies, output);
    }

    private static async ValueTask DrainAsync(RespSession session, List<ValueTask<RespValue>> replies, PipeWriter output)
    {
        foreach (var reply in replies)
        {
            Write(session, reply.IsCompletedSuccessfully ? reply.Result : await reply, output);
        }

        replies.Clear();
    }

    private static void Write(RespSession session, RespValue value, PipeWriter output)
    {
        if (value.Kind != RespKind.None)
        {
            value.WriteTo(output, session.Protocol);
        }
    }
}
