#nullable enable
using System.Buffers;
using System.Buffers.Text;

namespace ActorGrid.Resp;

/// <summary>How parsing one request from the buffer ended.</summary>
internal enum ParseStatus
{
    /// <summary>A whole request was parsed (it may carry a <see cref="RespRequest.Refusal"/>).</summary>
    Complete,

    /// <summary>The buffer ends inside a request: read more.</summary>
    Incomplete,

    /// <summary>The framing is broken beyond recovery: answer the error and close, as Redis does.</summary>
    ProtocolError,
}

/// <summary>
/// Reads Redis requests — RESP arrays of bulk strings, and inline commands — straight from the receive buffer
/// without copying: arguments are slices of it. Lengths are checked against the limits before anything is
/// buffered; an oversized argument or array is skipped (not buffered) and the request refused, keeping the
/// connection in step.
/// </summary>
/// <remarks>
/// RESPite 3.4.35 (the StackExchange.Redis authors' RESP library) was considered: its <c>RespFrameScanner</c> and
/// <c>RespReader</c> read replies for a client. A server needs inline commands, limits checked on each header
/// before the body is awaited, skipping of refused bodies without buffering them, and one pass per request; the
/// scanner-then-reader pair scans every frame twice and has no hook for the limits, so this small parser does it.
/// </remarks>
internal sealed class RespParser(RespLimits limits)
{
    // Progress inside a request that is being skipped (refused but still arriving): bytes and elements still to drop.
    private long _skipBytes;
    private long _skipElements;
    private string? _skipRefusal;

    /// <summary>The error of the last <see cref="ParseStatus.ProtocolError"/>.</summary>
    public string ProtocolErrorMessage { get; private set; } = "";

    /// <summary>Parses one request at the start of <paramref name="reader"/>; on success the reader is past it.</summary>
    public ParseStatus TryParse(ref SequenceReader<byte> reader, RespRequest request)
    {
        request.Reset();
        if (_skipRefusal is not null)
        {
            return Skip(ref reader, request);
        }

        var start = reader;
        if (!reader.TryPeek(out var first))
        {
            return ParseStatus.Incomplete;
        }

        if (first != (byte)'*')
        {
            return ParseInline(ref reader, request);
        }

        reader.Advance(1);
        var header = TryReadInteger(ref reader, out var count);
        if (header != ParseStatus.Complete)
        {
            reader = start;
            return Fail(header, "invalid multibulk length");
        }

        if (count <= 0)
        {
            // "*0" and "*-1" are empty requests: Redis ignores them.
            request.Refusal = "";
            return ParseStatus.Complete;
        }

        if (count > limits.MaxArrayLength)
        {
            _skipElements = count;
            _skipRefusal = $"Protocol error: too many arguments ({count}; the limit is {limits.MaxArrayLength})";
            return Skip(ref reader, request);
        }

        for (var i = 0; i < count; i++)
        {
            if (!reader.TryRead(out var prefix))
            {
                reader = start;
                return ParseStatus.Incomplete;
            }

            if (prefix != (byte)'$')
            {
                return Fail(ParseStatus.ProtocolError, $"expected '$', got '{(char)prefix}'");
            }

            var length = TryReadInteger(ref reader, out var bytes);
            if (length != ParseStatus.Complete)
            {
                reader = start;
                return Fail(length, "invalid bulk length");
            }

            if (bytes < 0)
            {
                return Fail(ParseStatus.ProtocolError, "invalid bulk length");
            }

            if (bytes > limits.MaxBulkBytes)
            {
                // Drop this body and the remaining elements as they arrive, then refuse the request.
                _skipBytes = bytes + 2;
                _skipElements = count - i - 1;
                _skipRefusal = $"Protocol error: argument of {bytes} bytes (the limit is {limits.MaxBulkBytes})";
                return Skip(ref reader, request);
            }

            if (reader.Remaining < bytes + 2)
            {
                reader = start;
                return ParseStatus.Incomplete;
            }

            var body = reader.UnreadSequence.Slice(0, bytes);
            reader.Advance(bytes);
            if (!reader.IsNext("\r\n"u8, advancePast: true))
            {
                return Fail(ParseStatus.ProtocolError, "bulk string not terminated by CRLF");
            }

            request.Add(body);
        }

        return ParseStatus.Complete;
    }

    private ParseStatus Skip(ref SequenceReader<byte> reader, RespRequest request)
    {
        while (true)
        {
            if (_skipBytes > 0)
            {
                var drop = Math.Min(_skipBytes, reader.Remaining);
                reader.Advance(drop);
                _skipBytes -= drop;
                if (_skipBytes > 0)
                {
                    return ParseStatus.Incomplete;
                }
            }

            if (_skipElements == 0)
            {
                request.Refusal = _skipRefusal;
                _skipRefusal = null;
                return ParseStatus.Complete;
            }

            var element = reader;
            if (!reader.TryRead(out var prefix))
            {
                return ParseStatus.Incomplete;
            }

            if (prefix != (byte)'$')
            {
                _skipRefusal = null;
                return Fail(ParseStatus.ProtocolError, $"expected '$', got '{(char)prefix}'");
            }

            var status = TryReadInteger(ref reader, out var bytes);
            if (status == ParseStatus.Incomplete)
            {
                reader = element;
                return ParseStatus.Incomplete;
            }

            if (status == ParseStatus.ProtocolError || bytes < 0)
            {
                _skipRefusal = null;
                return Fail(ParseStatus.ProtocolError, "invalid bulk length");
            }

            _skipElements--;
            _skipBytes = bytes + 2;
        }
    }

    private ParseStatus ParseInline(ref SequenceReader<byte> reader, RespRequest request)
    {
        var start = reader;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
        {
            reader = start;
            return reader.Remaining > limits.MaxInlineBytes
                ? Fail(ParseStatus.ProtocolError, "too big inline request")
                : ParseStatus.Incomplete;
        }

        if (line.Length > limits.MaxInlineBytes)
        {
            request.Refusal = "Protocol error: too big inline request";
            return ParseStatus.Complete;
        }

        // Arguments are separated by spaces or tabs; a trailing CR belongs to the line ending.
        var words = new SequenceReader<byte>(line);
        while (!words.End)
        {
            words.AdvancePastAny((byte)' ', (byte)'\t', (byte)'\r');
            if (words.End)
            {
                break;
            }

            var wordStart = words.Position;
            if (!words.TryAdvanceToAny(" \t\r"u8, advancePastDelimiter: false))
            {
                words.AdvanceToEnd();
            }

            if (request.Count == limits.MaxArrayLength)
            {
                request.Refusal = "Protocol error: too many arguments";
                return ParseStatus.Complete;
            }

            request.Add(line.Slice(wordStart, words.Position));
        }

        if (request.Count == 0)
        {
            request.Refusal = "";
        }

        return ParseStatus.Complete;
    }

    // Reads digits up to CRLF. Incomplete when the line has not all arrived yet (and is still short).
    private static ParseStatus TryReadInteger(ref SequenceReader<byte> reader, out long value)
    {
        value = 0;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> digits, "\r\n"u8, advancePastDelimiter: true))
        {
            return reader.Remaining > 22 ? ParseStatus.ProtocolError : ParseStatus.Incomplete;
        }

        if (digits.Length is 0 or > 20)
        {
            return ParseStatus.ProtocolError;
        }

        Span<byte> buffer = stackalloc byte[20];
        digits.CopyTo(buffer);
        var span = buffer[..(int)digits.Length];
        return Utf8Parser.TryParse(span, out value, out var consumed) && consumed == span.Length ? ParseStatus.Complete : ParseStatus.ProtocolError;
    }

    private ParseStatus Fail(ParseStatus status, string message)
    {
        if (status == ParseStatus.ProtocolError)
        {
            ProtocolErrorMessage = "Protocol error: " + message;
        }

        return status;
    }
}

/// <summary>Limits on what one connection may send.</summary>
/// <param name="MaxBulkBytes">Longest argument (Redis' <c>proto-max-bulk-len</c>).</param>
/// <param name="MaxArrayLength">Most arguments of one command.</param>
/// <param name="MaxInlineBytes">Longest inline command line.</param>
/// <param name="MaxPipelineDepth">Most commands taken from one read before their replies are written.</param>
internal sealed record RespLimits(long MaxBulkBytes, int MaxArrayLength, int MaxInlineBytes, int MaxPipelineDepth);
