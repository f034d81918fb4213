#nullable enable
namespace ActorGrid.Naming;

/// <summary>
/// The one validator for names that users choose and the grid turns into entity ids, persistence ids, actor names,
/// URLs and headers (topics, groups, producers, members, jobs, job types). A name is ASCII letters, digits and a few
/// punctuation characters, checked character by character: no regular expression, so no <c>$</c> that matches
/// before a trailing newline, and nothing a control character, a surrogate or a non-ASCII letter can slip through.
/// </summary>
public static class GridNames
{
    /// <summary>Topic, group, producer and member names: <c>[A-Za-z0-9._-]{1,200}</c>.</summary>
    public static readonly NameRule Broker = new(200, "._-", LowerCaseOnly: false);

    /// <summary>Job ids: <c>[A-Za-z0-9_-]{1,64}</c> (no '.': a reduce partition is named <c>{jobId}.{r}</c>).</summary>
    public static readonly NameRule JobId = new(64, "_-", LowerCaseOnly: false);

    /// <summary>Job type names: <c>[a-z0-9._-]{1,64}</c>.</summary>
    public static readonly NameRule JobType = new(64, "._-", LowerCaseOnly: true);
}

/// <summary>What a name may hold: 1 to <paramref name="MaxLength"/> ASCII letters and digits, plus <paramref name="Punctuation"/>.</summary>
/// <param name="MaxLength">The longest name allowed.</param>
/// <param name="Punctuation">The non-alphanumeric characters allowed.</param>
/// <param name="LowerCaseOnly">Whether upper-case letters are refused.</param>
public sealed record NameRule(int MaxLength, string Punctuation, bool LowerCaseOnly)
{
    /// <summary>Whether <paramref name="name"/> follows this rule.</summary>
    public bool IsValid(string? name)
    {
        if (name is null || name.Length == 0 || name.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in name)
        {
            var ok = char.IsAsciiDigit(c) || char.IsAsciiLetterLower(c) || (!LowerCaseOnly && char.IsAsciiLetterUpper(c)) || Punctuation.Contains(c);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The rule as a sentence, e.g. "1 to 200 of A-Z, a-z, 0-9, '.', '_' and '-'".</summary>
    public string Describe() =>
        $"1 to {MaxLength} of {(LowerCaseOnly ? "" : "A-Z, ")}a-z, 0-9, {string.Join(", ", Punctuation.Select(c => $"'{c}'"))}";
}
