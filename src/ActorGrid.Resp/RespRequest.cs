#nullable enable
using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace ActorGrid.Resp;

/// <summary>
/// One parsed command: its arguments as slices of the connection's receive buffer (no copy). Valid until the
/// connection advances past the batch the command came in; instances are reused from batch to batch.
/// </summary>
internal sealed class RespRequest
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private ReadOnlySequence<byte>[] _args = new ReadOnlySequence<byte>[8];

    /// <summary>Number of arguments, the command name included.</summary>
    public int Count { get; private set; }

    /// <summary>Argument <paramref name="index"/> (0 is the command name).</summary>
    public ReadOnlySequence<byte> this[int index] => _args[index];

    /// <summary>Why the request was refused while parsing (too long, too many arguments), or null.</summary>
    public string? Refusal { get; set; }

    /// <summary>The command this request names, once looked up.</summary>
    public RespCommand? Command { get; set; }

    public void Reset()
    {
        Count = 0;
        Refusal = null;
        Command = null;
    }

    public void Add(in ReadOnlySequence<byte> argument)
    {
        if (Count == _args.Length)
        {
            Array.Resize(ref _args, _args.Length * 2);
        }

        _args[Count++] = argument;
    }

    /// <summary>Whether argument <paramref name="index"/> equals the ASCII upper-case <paramref name="upper"/>, ignoring case.</summary>
    public bool Is(int index, ReadOnlySpan<byte> upper)
    {
        var arg = _args[index];
        if (arg.Length != upper.Length)
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[64];
        var span = arg.IsSingleSegment ? arg.FirstSpan : Copy(arg, buffer);
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            if ((c is >= (byte)'a' and <= (byte)'z' ? (byte)(c - 32) : c) != upper[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Argument <paramref name="index"/> as bytes (a copy: values outlive the receive buffer).</summary>
    public byte[] Bytes(int index) => _args[index].ToArray();

    /// <summary>Argument <paramref name="index"/> as well-formed UTF-8 text, or null when it is not.</summary>
    public string? Text(int index)
    {
        try
        {
            var arg = _args[index];
            return arg.IsSingleSegment ? StrictUtf8.GetString(arg.FirstSpan) : StrictUtf8.GetString(arg.ToArray());
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Argument <paramref name="index"/> as a 64-bit integer written the way Redis accepts one.</summary>
    public bool TryLong(int index, out long value)
    {
        var arg = _args[index];
        Span<byte> buffer = stackalloc byte[24];
        if (arg.Length > 21)
        {
            value = 0;
            return false;
        }

        var span = arg.IsSingleSegment ? arg.FirstSpan : Copy(arg, buffer);
        return Utf8Parser.TryParse(span, out value, out var consumed) && consumed == span.Length && span.Length > 0 && span[0] != '+';
    }

    /// <summary>Argument <paramref name="index"/> as a finite double.</summary>
    public bool TryDouble(int index, out double value)
    {
        var arg = _args[index];
        Span<byte> buffer = stackalloc byte[64];
        if (arg.Length is 0 or > 64)
        {
            value = 0;
            return false;
        }

        var span = arg.IsSingleSegment ? arg.FirstSpan : Copy(arg, buffer);
        if (span.SequenceEqual("+inf"u8) || span.SequenceEqual("inf"u8))
        {
            value = double.PositiveInfinity;
            return true;
        }

        if (span.SequenceEqual("-inf"u8))
        {
            value = double.NegativeInfinity;
            return true;
        }

        return Utf8Parser.TryParse(span, out value, out var consumed, 'G') && consumed == span.Length && !double.IsNaN(value);
    }

    /// <summary>The command name in lower case, for messages.</summary>
    public string Name => Count == 0 ? "" : Encoding.ASCII.GetString(_args[0].ToArray()).ToLowerInvariant();

    private static ReadOnlySpan<byte> Copy(in ReadOnlySequence<byte> arg, Span<byte> buffer)
    {
        arg.CopyTo(buffer);
        return buffer[..(int)arg.Length];
    }
}
