#nullable enable
namespace ActorGrid.Resp;

/// <summary>Redis glob patterns (KEYS, SCAN MATCH, CONFIG GET): <c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[^a-z]</c>, <c>\x</c>.</summary>
internal static class Glob
{
    /// <summary>Whether <paramref name="text"/> matches <paramref name="pattern"/>.</summary>
    public static bool Matches(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text, bool ignoreCase = false)
    {
        while (pattern.Length > 0)
        {
            switch (pattern[0])
            {
                case '*':
                    while (pattern.Length > 1 && pattern[1] == '*')
                    {
                        pattern = pattern[1..];
                    }

                    if (pattern.Length == 1)
                    {
                        return true;
                    }

                    for (var i = 0; i <= text.Length; i++)
                    {
                        if (Matches(pattern[1..], text[i..], ignoreCase))
                        {
                            return true;
                        }
                    }

                    return false;
                case '?':
                    if (text.Length == 0)
                    {
                        return false;
                    }

                    text = text[1..];
                    pattern = pattern[1..];
                    break;
                case '[':
                {
                    if (text.Length == 0)
                    {
                        return false;
                    }

                    var close = pattern.IndexOf(']');
                    if (close < 0)
                    {
                        return false;
                    }

                    var set = pattern[1..close];
                    var negate = set.Length > 0 && set[0] == '^';
                    if (negate)
                    {
                        set = set[1..];
                    }

                    var hit = false;
                    for (var i = 0; i < set.Length; i++)
                    {
                        if (set[i] == '\\' && i + 1 < set.Length)
                        {
                            hit |= Same(set[++i], text[0], ignoreCase);
                        }
                        else if (i + 2 < set.Length && set[i + 1] == '-')
                        {
                            var (lo, hi) = set[i] <= set[i + 2] ? (set[i], set[i + 2]) : (set[i + 2], set[i]);
                            var c = ignoreCase ? char.ToLowerInvariant(text[0]) : text[0];
                            hit |= c >= (ignoreCase ? char.ToLowerInvariant(lo) : lo) && c <= (ignoreCase ? char.ToLowerInvariant(hi) : hi);
                            i += 2;
                        }
                        else
                        {
                            hit |= Same(set[i], text[0], ignoreCase);
                        }
                    }

                    if (hit == negate)
                    {
                        return false;
                    }

                    text = text[1..];
                    pattern = pattern[(close + 1)..];
                    break;
                }

                case '\\' when pattern.Length > 1:
                    if (text.Length == 0 || !Same(pattern[1], text[0], ignoreCase))
                    {
                        return false;
                    }

                    text = text[1..];
                    pattern = pattern[2..];
                    break;
                default:
                    if (text.Length == 0 || !Same(pattern[0], text[0], ignoreCase))
                    {
                        return false;
                    }

                    text = text[1..];
                    pattern = pattern[1..];
                    break;
            }
        }

        return text.Length == 0;
    }

    /// <summary>The literal text every match starts with (a scan prefix).</summary>
    public static string LiteralPrefix(string pattern)
    {
        var end = pattern.AsSpan().IndexOfAny("*?[\\");
        return end < 0 ? pattern : pattern[..end];
    }

    private static bool Same(char a, char b, bool ignoreCase) => ignoreCase ? char.ToLowerInvariant(a) == char.ToLowerInvariant(b) : a == b;
}
