#nullable enable
using System.Globalization;
using System.Runtime.CompilerServices;
using ActorGrid.MapReduce.Jobs;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Inputs;

/// <summary>Inline text: split at line ends into chunks of about <see cref="MapReduceProtocol.Settings.TextSplitChars"/>; one record per line.</summary>
internal sealed class TextInput(Settings settings) : IJobInput
{
    private const int BatchSize = 1000;

    public Task<IReadOnlyList<MapTaskPlan>> PlanAsync(JobSpec spec, CancellationToken cancellationToken) =>
        Task.FromResult(Plan(spec.Input.Text ?? "", settings.TextSplitChars));

    /// <summary>Splits <paramref name="text"/> after a line end once a split reaches <paramref name="splitChars"/>.</summary>
    public static IReadOnlyList<MapTaskPlan> Plan(string text, int splitChars)
    {
        var plans = new List<MapTaskPlan>();
        var start = 0;
        var line = 1L;
        while (start < text.Length)
        {
            var newline = text.IndexOf('\n', Math.Min(text.Length - 1, start + Math.Max(1, splitChars) - 1));
            var end = newline < 0 ? text.Length : newline + 1;
            plans.Add(new MapTaskPlan(new TextSplit(start, end - start, line), null));
            line += text.AsSpan(start, end - start).Count('\n');
            start = end;
        }

        return plans;
    }

    public async IAsyncEnumerable<IReadOnlyList<InputRecord>> ReadAsync(RunMapTask task, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var split = (TextSplit)task.Split;
        var text = task.SplitText ?? throw new InvalidOperationException("a text split arrived without its text");
        var batch = new List<InputRecord>(BatchSize);
        var number = split.FirstLine;
        var start = 0;
        while (start < text.Length)
        {
            var newline = text.IndexOf('\n', start);
            var end = newline < 0 ? text.Length : newline;
            var lineEnd = end > start && text[end - 1] == '\r' ? end - 1 : end;
            batch.Add(new InputRecord(number.ToString(CultureInfo.InvariantCulture), text[start..lineEnd]));
            number++;
            start = end + 1;
            if (batch.Count == BatchSize)
            {
                yield return batch;
                batch = new List<InputRecord>(BatchSize);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }

        await Task.CompletedTask;
    }

    public Task<bool> IsLocalAsync(InputSplit split, string node, CancellationToken cancellationToken) => Task.FromResult(false);
}
