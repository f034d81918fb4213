#nullable enable
using System.Text.RegularExpressions;

namespace ActorGrid.MapReduce.Jobs;

/// <summary>
/// <c>grep</c>: every line matching <c>parameters.pattern</c> (a .NET regular expression, culture-invariant; with
/// <c>ignoreCase</c>: true, case-insensitive) with the number of times it occurs. Patterns run with
/// <see cref="RegexOptions.NonBacktracking"/>: matching time is linear in the line whatever the pattern (no
/// catastrophic backtracking; backreferences, lookarounds and atomic groups are refused at submission), and a
/// pattern has at most <see cref="MaxPatternChars"/> characters. <see cref="MatchTimeout"/> stays as a last bound.
/// </summary>
public sealed class GrepJob : IMapReduceJob<long>
{
    /// <summary>The registered name.</summary>
    public const string Name = "grep";

    /// <summary>The longest pattern accepted, in characters.</summary>
    public const int MaxPatternChars = 1000;

    /// <summary>The longest one line may take to match.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(2);

    private Regex? _regex;

    /// <inheritdoc />
    public void Initialize(JobParameters parameters)
    {
        var pattern = parameters.GetRequiredString("pattern");
        if (pattern.Length > MaxPatternChars)
        {
            throw new InvalidJobParametersException($"parameters.pattern has {pattern.Length} characters; at most {MaxPatternChars} are allowed");
        }

        var options = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking
            | (parameters.GetBoolean("ignoreCase") ? RegexOptions.IgnoreCase : RegexOptions.None);
        try
        {
            _regex = new Regex(pattern, options, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new InvalidJobParametersException($"parameters.pattern is not a valid regular expression: {e.Message}");
        }
        catch (NotSupportedException e)
        {
            // Backreferences, lookarounds, atomic groups, or a pattern too large to compile to an automaton.
            throw new InvalidJobParametersException($"parameters.pattern cannot run in linear time: {e.Message}");
        }
    }

    /// <inheritdoc />
    public void Map(InputRecord record, IMapOutput<long> output)
    {
        var regex = _regex ?? throw new InvalidOperationException("grep was not initialized");
        try
        {
            Words.ForEachLine(record.Text, (regex, output), static (state, line) =>
            {
                if (state.regex.IsMatch(line))
                {
                    state.output.Emit(line, 1);
                }
            });
        }
        catch (RegexMatchTimeoutException)
        {
            throw new InvalidOperationException(
                $"parameters.pattern took longer than {MatchTimeout.TotalSeconds:0.#}s to match a line of record '{record.Key}'");
        }
    }

    /// <inheritdoc />
    public long Combine(long left, long right) => left + right;

    /// <inheritdoc />
    public string? Reduce(string key, IReadOnlyList<long> values) =>
        WordCountJob.Sum(values).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
