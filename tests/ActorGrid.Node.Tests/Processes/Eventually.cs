#nullable enable
using System.Diagnostics;

namespace ActorGrid.Node.Tests.Processes;

/// <summary>
/// Waits for a condition with a deadline instead of sleeping for a guessed time. Same contract as
/// <c>ActorGrid.TestKit.Eventually</c>: the check returns null when the condition holds, else why not yet.
/// </summary>
public static class Eventually
{
    /// <summary>
    /// Polls <paramref name="check"/> until it returns null or <paramref name="timeout"/> passes, then throws a
    /// <see cref="TimeoutException"/> with the last reason (and <paramref name="diagnostics"/>, if given).
    /// </summary>
    /// <returns>How long the condition took to hold.</returns>
    public static async Task<TimeSpan> AwaitAsync(Func<Task<string?>> check, TimeSpan timeout, string what, Func<string>? diagnostics = null)
    {
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            string? reason;
            try
            {
                reason = await check();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or System.Text.Json.JsonException)
            {
                reason = $"{e.GetType().Name}: {e.Message}";
            }

            if (reason is null)
            {
                return clock.Elapsed;
            }

            if (clock.Elapsed >= timeout)
            {
                var message = $"Timed out after {timeout.TotalSeconds:0.#}s waiting for {what}: {reason}";
                throw new TimeoutException(diagnostics is null ? message : message + Environment.NewLine + diagnostics());
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
        }
    }
}
