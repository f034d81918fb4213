#nullable enable
namespace ActorGrid.TestKit.Histories;

/// <summary>What a checker found: nothing (valid), or a list of violations.</summary>
public sealed record CheckResult(string Checker, int Checked, IReadOnlyList<string> Violations)
{
    /// <summary>True when no violation was found.</summary>
    public bool IsValid => Violations.Count == 0;

    /// <summary>Throws with every violation when the history is not valid.</summary>
    public CheckResult AssertValid() =>
        IsValid ? this : throw new HistoryViolationException(this);

    /// <inheritdoc />
    public override string ToString() =>
        IsValid
            ? $"{Checker}: {Checked} checked, no violation"
            : $"{Checker}: {Violations.Count} violation(s) in {Checked} checked:\n  " + string.Join("\n  ", Violations.Take(20));
}

/// <summary>A checked history broke a guarantee.</summary>
public sealed class HistoryViolationException(CheckResult result) : Exception(result.ToString())
{
    /// <summary>The failed check.</summary>
    public CheckResult Result { get; } = result;
}
