#nullable enable
using System.Text;

namespace ActorGrid.MapReduce.Jobs;

/// <summary>
/// One input record of a map task. For <c>text</c> input a record is one line (key: its 1-based line number); for
/// <c>kvPrefix</c> input one key-value entry (key: the KV key); for <c>topic</c> input one message (key:
/// <c>{topic}/{partition}/{offset}</c>).
/// </summary>
public sealed class InputRecord
{
    private string? _text;
    private ReadOnlyMemory<byte>? _value;

    /// <summary>A record whose value is bytes (decoded as UTF-8 on first use of <see cref="Text"/>).</summary>
    public InputRecord(string key, ReadOnlyMemory<byte> value)
    {
        Key = key;
        _value = value;
    }

    /// <summary>A record whose value is text (encoded as UTF-8 on first use of <see cref="Value"/>).</summary>
    public InputRecord(string key, string text)
    {
        Key = key;
        _text = text;
    }

    /// <summary>The record's key.</summary>
    public string Key { get; }

    /// <summary>The record's value as bytes.</summary>
    public ReadOnlyMemory<byte> Value => _value ??= Encoding.UTF8.GetBytes(_text!);

    /// <summary>The record's value as UTF-8 text.</summary>
    public string Text => _text ??= Encoding.UTF8.GetString(_value!.Value.Span);

    /// <summary>
    /// Calls <paramref name="action"/> for every word of the value (see <see cref="Words"/>), without decoding a
    /// byte value into a new string.
    /// </summary>
    public void ForEachWord<TState>(TState state, WordAction<TState> action)
    {
        if (_text is not null)
        {
            Words.ForEach(_text, state, action);
        }
        else
        {
            Words.ForEachInUtf8(_value!.Value.Span, state, action);
        }
    }

    /// <summary>The value's size in bytes (UTF-8).</summary>
    public int ByteCount => _value is { } value ? value.Length : Encoding.UTF8.GetByteCount(_text!);
}
