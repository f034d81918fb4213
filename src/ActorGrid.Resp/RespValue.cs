#nullable enable
using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace ActorGrid.Resp;

/// <summary>The kinds of reply a command gives.</summary>
internal enum RespKind : byte
{
    /// <summary>No reply at all (an empty request).</summary>
    None,
    SimpleString,
    Error,
    Integer,
    Bulk,
    Null,
    NullArray,
    Array,
    Map,
    Double,
    Boolean,
    Verbatim,
    Set,
}

/// <summary>
/// One reply, protocol-neutral: the connection writes it as RESP2 or RESP3 (maps as flat arrays, nulls as
/// <c>$-1</c>/<c>*-1</c>, doubles as bulk strings in RESP2). A struct so that the common replies allocate nothing.
/// </summary>
internal readonly struct RespValue
{
    private readonly object? _ref;
    private readonly long _integer;

    private RespValue(RespKind kind, object? reference, long integer = 0)
    {
        Kind = kind;
        _ref = reference;
        _integer = integer;
    }

    public RespKind Kind { get; }

    public static readonly RespValue NoReply = default;
    public static readonly RespValue Ok = Simple("OK");
    public static readonly RespValue Queued = Simple("QUEUED");
    public static readonly RespValue Null = new(RespKind.Null, null);
    public static readonly RespValue NullArray = new(RespKind.NullArray, null);
    public static readonly RespValue EmptyArray = new(RespKind.Array, System.Array.Empty<RespValue>());
    public static readonly RespValue Zero = Integer(0);
    public static readonly RespValue One = Integer(1);

    public static RespValue Simple(string text) => new(RespKind.SimpleString, Encoding.UTF8.GetBytes(text));

    /// <summary>An error; <paramref name="message"/> starts with its code (<c>ERR …</c>, <c>WRONGTYPE …</c>).</summary>
    public static RespValue Error(string message) => new(RespKind.Error, Encoding.UTF8.GetBytes(message.ReplaceLineEndings(" ")));

    public static RespValue Integer(long value) => new(RespKind.Integer, null, value);

    public static RespValue Bulk(byte[]? value) => value is null ? Null : new(RespKind.Bulk, value);

    public static RespValue Bulk(string? value) => value is null ? Null : new(RespKind.Bulk, Encoding.UTF8.GetBytes(value));

    public static RespValue Verbatim(string text) => new(RespKind.Verbatim, Encoding.UTF8.GetBytes(text));

    public static RespValue Double(double value) => new(RespKind.Double, null, BitConverter.DoubleToInt64Bits(value));

    public static RespValue Boolean(bool value) => new(RespKind.Boolean, null, value ? 1 : 0);

    public static RespValue Array(params RespValue[] items) => new(RespKind.Array, items);

    public static RespValue Set(RespValue[] items) => new(RespKind.Set, items);

    /// <summary>A map: RESP3 <c>%</c>, RESP2 a flat array of keys and values.</summary>
    public static RespValue Map(RespValue[] keysAndValues) => new(RespKind.Map, keysAndValues);

    public bool IsError => Kind == RespKind.Error;

    /// <summary>Writes the reply in protocol <paramref name="protocol"/> (2 or 3).</summary>
    public void WriteTo(IBufferWriter<byte> output, int protocol)
    {
        switch (Kind)
        {
            case RespKind.SimpleString:
                WriteLine(output, (byte)'+', (byte[])_ref!);
                break;
            case RespKind.Error:
                WriteLine(output, (byte)'-', (byte[])_ref!);
                break;
            case RespKind.Integer:
                WriteHeader(output, (byte)':', _integer);
                break;
            case RespKind.Bulk:
                WriteBulk(output, (byte)'$', (byte[])_ref!);
                break;
            case RespKind.Verbatim:
                if (protocol == 3)
                {
                    var text = (byte[])_ref!;
                    WriteHeader(output, (byte)'=', text.Length + 4);
                    Write(output, "txt:"u8);
                    Write(output, text);
                    Write(output, "\r\n"u8);
                }
                else
                {
                    WriteBulk(output, (byte)'$', (byte[])_ref!);
                }

                break;
            case RespKind.Null:
                Write(output, protocol == 3 ? "_\r\n"u8 : "$-1\r\n"u8);
                break;
            case RespKind.NullArray:
                Write(output, protocol == 3 ? "_\r\n"u8 : "*-1\r\n"u8);
                break;
            case RespKind.Double:
                var formatted = Encoding.ASCII.GetBytes(FormatDouble(BitConverter.Int64BitsToDouble(_integer)));
                if (protocol == 3)
                {
                    WriteLine(output, (byte)',', formatted);
                }
                else
                {
                    WriteBulk(output, (byte)'$', formatted);
                }

                break;
            case RespKind.Boolean:
                if (protocol == 3)
                {
                    Write(output, _integer != 0 ? "#t\r\n"u8 : "#f\r\n"u8);
                }
                else
                {
                    WriteHeader(output, (byte)':', _integer);
                }

                break;
            case RespKind.Array:
            case RespKind.Set:
            case RespKind.Map:
                var items = (RespValue[])_ref!;
                if (Kind == RespKind.Map && protocol == 3)
                {
                    WriteHeader(output, (byte)'%', items.Length / 2);
                }
                else
                {
                    WriteHeader(output, Kind == RespKind.Set && protocol == 3 ? (byte)'~' : (byte)'*', items.Length);
                }

                foreach (var item in items)
                {
                    item.WriteTo(output, protocol);
                }

                break;
        }
    }

    /// <summary>A double as Redis prints one (<c>inf</c>, <c>-inf</c>, shortest round-trip digits).</summary>
    public static string FormatDouble(double value) =>
        double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf" : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Writes a bulk string straight from the receive path (no reply object).</summary>
    public static void WriteBulk(IBufferWriter<byte> output, byte prefix, ReadOnlySpan<byte> value)
    {
        WriteHeader(output, prefix, value.Length);
        Write(output, value);
        Write(output, "\r\n"u8);
    }

    private static void WriteLine(IBufferWriter<byte> output, byte prefix, ReadOnlySpan<byte> text)
    {
        var span = output.GetSpan(text.Length + 3);
        span[0] = prefix;
        text.CopyTo(span[1..]);
        span[text.Length + 1] = (byte)'\r';
        span[text.Length + 2] = (byte)'\n';
        output.Advance(text.Length + 3);
    }

    private static void WriteHeader(IBufferWriter<byte> output, byte prefix, long value)
    {
        var span = output.GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out var written);
        span[written + 1] = (byte)'\r';
        span[written + 2] = (byte)'\n';
        output.Advance(written + 3);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            var span = output.GetSpan(1);
            var n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            output.Advance(n);
            bytes = bytes[n..];
        }
    }
}
