#nullable enable
namespace ActorGrid.TestKit.Histories;

/// <summary>Checks a MapReduce result against a reference computed without the grid (SPEC §7: same as a fault-free run).</summary>
public static class ResultChecker
{
    /// <summary>Every key of <paramref name="expected"/> with the same value, and no other key.</summary>
    public static CheckResult Compare(IReadOnlyDictionary<string, string> expected, IReadOnlyDictionary<string, string> actual)
    {
        var violations = new List<string>();
        foreach (var (key, value) in expected)
        {
            if (!actual.TryGetValue(key, out var got))
            {
                violations.Add($"missing '{key}' (expected {value})");
            }
            else if (got != value)
            {
                violations.Add($"'{key}': expected {value}, got {got}");
            }
        }

        violations.AddRange(actual.Keys.Where(k => !expected.ContainsKey(k)).Select(k => $"unexpected '{k}' = {actual[k]}"));
        return new CheckResult("mapreduce result", expected.Count, violations);
    }
}
