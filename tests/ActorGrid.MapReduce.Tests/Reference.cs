using System.Globalization;
using System.Text;

namespace ActorGrid.MapReduce.Tests;

/// <summary>Single-process reference computations the grid's results are compared with, written independently of the job code.</summary>
internal static class Reference
{
    public static Dictionary<string, string> WordCount(IEnumerable<string> documents)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var document in documents)
        {
            var word = new StringBuilder();
            foreach (var c in document + " ")
            {
                if (char.IsLetterOrDigit(c))
                {
                    word.Append(c);
                }
                else if (word.Length > 0)
                {
                    var w = word.ToString().ToLowerInvariant();
                    counts[w] = counts.GetValueOrDefault(w) + 1;
                    word.Clear();
                }
            }
        }

        return counts.ToDictionary(c => c.Key, c => c.Value.ToString(CultureInfo.InvariantCulture), StringComparer.Ordinal);
    }

    /// <summary>Deterministic text of about <paramref name="bytes"/> bytes over a Zipf-like vocabulary, in documents of about <paramref name="documentBytes"/>.</summary>
    public static List<string> Documents(int bytes, int documentBytes, int seed = 42)
    {
        var random = new Random(seed);
        var vocabulary = Enumerable.Range(0, 5000).Select(i => Word(random, i)).ToArray();
        var documents = new List<string>();
        var total = 0;
        while (total < bytes)
        {
            var text = new StringBuilder();
            while (text.Length < documentBytes)
            {
                // Zipf-like: low ranks are far more frequent.
                var rank = (int)Math.Min(vocabulary.Length - 1, Math.Floor(Math.Pow(vocabulary.Length, random.NextDouble())) - 1);
                var word = vocabulary[rank];
                text.Append(random.Next(10) == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : word);
                text.Append(random.Next(12) switch { 0 => ". ", 1 => ", ", 2 => "\n", _ => " " });
            }

            documents.Add(text.ToString());
            total += text.Length;
        }

        return documents;
    }

    private static string Word(Random random, int i)
    {
        const string letters = "abcdefghijklmnopqrstuvwxyzäöüéñ";
        var length = 2 + random.Next(9);
        var chars = new char[length];
        for (var c = 0; c < length; c++)
        {
            chars[c] = letters[random.Next(c == 0 ? 26 : letters.Length)];
        }

        return i % 97 == 0 ? new string(chars) + i.ToString(CultureInfo.InvariantCulture) : new string(chars);
    }
}
