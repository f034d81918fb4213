#nullable enable
namespace ActorGrid.KeyValue;

/// <summary>
/// Operations per second over a sliding window of one-second buckets. Owned by one actor (not thread-safe).
/// </summary>
public sealed class LoadMeter
{
    private readonly long[] _counts;
    private readonly long[] _seconds;

    /// <summary>A meter over the last <paramref name="window"/> (whole seconds, at least one).</summary>
    public LoadMeter(TimeSpan window)
    {
        var buckets = Math.Max(1, (int)Math.Round(window.TotalSeconds));
        _counts = new long[buckets];
        _seconds = new long[buckets];
        Array.Fill(_seconds, long.MinValue);
    }

    /// <summary>Counts <paramref name="operations"/> at <paramref name="nowUnixMs"/>.</summary>
    public void Record(long nowUnixMs, long operations = 1)
    {
        var second = nowUnixMs / 1000;
        var slot = (int)(second % _counts.Length);
        if (_seconds[slot] != second)
        {
            _seconds[slot] = second;
            _counts[slot] = 0;
        }

        _counts[slot] += operations;
    }

    /// <summary>Average operations per second over the window ending at <paramref name="nowUnixMs"/>.</summary>
    public double Rate(long nowUnixMs)
    {
        var now = nowUnixMs / 1000;
        long total = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            if (_seconds[i] > now - _counts.Length && _seconds[i] <= now)
            {
                total += _counts[i];
            }
        }

        return (double)total / _counts.Length;
    }
}
