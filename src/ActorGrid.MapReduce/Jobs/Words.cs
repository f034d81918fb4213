#nullable enable
using System.Buffers;
using System.Text;

namespace ActorGrid.MapReduce.Jobs;

/// <summary>Receives one word of a text, as lower-case characters valid only during the call.</summary>
public delegate void WordAction<in TState>(TState state, ReadOnlySpan<char> word);

/// <summary>
/// The word rule of the built-in jobs (SPEC §5): a word is a maximal run of characters for which
/// <see cref="char.IsLetterOrDigit(char)"/> holds, lower-cased with the invariant culture.
/// </summary>
public static class Words
{
    /// <summary>Calls <paramref name="action"/> for every word of <paramref name="text"/>, in order.</summary>
    public static void ForEach<TState>(ReadOnlySpan<char> text, TState state, WordAction<TState> action)
    {
        Span<char> buffer = stackalloc char[256];
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i]))
            {
                i++;
            }

            var start = i;
            while (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                i++;
            }

            if (i == start)
            {
                continue;
            }

            var word = text[start..i];
            if (word.Length <= buffer.Length)
            {
                var lowered = buffer[..word.Length];
                word.ToLowerInvariant(lowered);
                action(state, lowered);
            }
            else
            {
                action(state, word.ToString().ToLowerInvariant());
            }
        }
    }

    /// <summary>
    /// Calls <paramref name="action"/> for every word of UTF-8 <paramref name="utf8"/> text, decoding it into a pooled
    /// buffer rather than a new string.
    /// </summary>
    public static void ForEachInUtf8<TState>(ReadOnlySpan<byte> utf8, TState state, WordAction<TState> action)
    {
        var chars = ArrayPool<char>.Shared.Rent(Encoding.UTF8.GetMaxCharCount(utf8.Length));
        try
        {
            var length = Encoding.UTF8.GetChars(utf8, chars);
            ForEach(chars.AsSpan(0, length), state, action);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>Calls <paramref name="action"/> for every line of <paramref name="text"/> (split at '\n', without a trailing '\r').</summary>
    public static void ForEachLine<TState>(ReadOnlySpan<char> text, TState state, WordAction<TState> action)
    {
        foreach (var range in text.Split('\n'))
        {
            var line = text[range];
            if (line.EndsWith('\r'))
            {
                line = line[..^1];
            }

            action(state, line);
        }
    }
}
