#nullable enable
namespace ActorGrid.TestKit;

/// <summary>Waits for a condition with a deadline instead of sleeping for a guessed time.</summary>
public static class Eventually
{
    /// <summary>
    /// Polls <paramref name="check"/> until it returns null (the condition holds) or <paramref name="timeout"/>
    /// passes; then throws with the last reason it returned.
    /// </summary>
    public static async Task AwaitAsync(Func<string?> check, TimeSpan timeout, string what) =>
        await AwaitAsync(() => Task.FromResult(check()), timeout, what);

    /// <summary>Async form of <see cref="AwaitAsync(Func{string?}, TimeSpan, string)"/>.</summary>
    public static async Task AwaitAsync(Func<Task<string?>> check, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        var delay = TimeSpan.FromMilliseconds(25);
        string? reason;
        while (true)
        {
            try
            {
                reason = await check();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                reason = $"{e.GetType().Name}: {e.Message}";
            }

            if (reason is null)
            {
                return;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#}s waiting for {what}: {reason}");
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
        }
    }
}
