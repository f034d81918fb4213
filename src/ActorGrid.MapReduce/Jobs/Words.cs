#nullable enable
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
