using System.Collections.Immutable;
using System.Text;
using ActorGrid.MapReduce.Execution;
using ActorGrid.MapReduce.Jobs;

namespace ActorGrid.MapReduce.Tests;

/// <summary>The built-in job types and the map → combine → partition → shuffle → sort → reduce path, in memory.</summary>
public sealed class JobTypesTests
{
    private static readonly MapReduceJobs Jobs = new MapReduceJobs().Add<LongestLineJob>("longest-line");

    [Fact]
    public void Wordcount_lower_cases_and_splits_at_anything_that_is_not_a_letter_or_digit()
    {
        var (output, counters) = Run("wordcount", "{}", ("a", "Hello, hello WORLD! Straße 42abc\tÉté été"), ("b", "x_y don't"));

        Assert.Equal(new Dictionary<string, string>
        {
            ["hello"] = "2", ["world"] = "1", ["straße"] = "1", ["42abc"] = "1", ["été"] = "2", ["x"] = "1", ["y"] = "1", ["don"] = "1", ["t"] = "1",
        }, output);
        Assert.Equal(2, counters[JobCounters.MapInputRecords]);
        Assert.Equal(11, counters[JobCounters.MapOutputRecords]);
        Assert.Equal(9, counters[JobCounters.ReduceOutputRecords]);
    }

    [Fact]
    public void Wordcount_equals_the_reference_on_generated_text_split_over_many_chunks_and_reducers()
    {
        var documents = Reference.Documents(300_000, 3000);

        var (output, counters) = Run("wordcount", "{}", documents.Select((d, i) => ($"doc{i}", d)).ToArray(), reducers: 7, chunkBytes: 2048);

        Assert.Equal(Reference.WordCount(documents), output);
        Assert.True(counters[JobCounters.CombineOutputRecords] < counters[JobCounters.MapOutputRecords]);
    }

    [Fact]
    public void Grep_counts_matching_lines_and_honours_ignoreCase()
    {
        var text = "error: disk\nok\nerror: disk\r\nERROR: net\nwarning";

        Assert.Equal(new Dictionary<string, string> { ["error: disk"] = "2" }, Run("grep", """{"pattern":"^error"}""", ("1", text)).Output);
        Assert.Equal(
            new Dictionary<string, string> { ["error: disk"] = "2", ["ERROR: net"] = "1" },
            Run("grep", """{"pattern":"^error","ignoreCase":true}""", ("1", text)).Output);
    }

    [Theory]
    [InlineData("{}", "parameters.pattern is required")]
    [InlineData("""{"pattern":"("}""", "not a valid regular expression")]
    [InlineData("""{"pattern":42}""", "parameters.pattern must be a string")]
    [InlineData("""{"pattern":"a","ignoreCase":"yes"}""", "parameters.ignoreCase must be true or false")]
    [InlineData("""{"pattern":"(a)\\1"}""", "cannot run in linear time")]
    [InlineData("""{"pattern":"(?<=a)b"}""", "cannot run in linear time")]
    [InlineData("""{"pattern":"(?>a+)b"}""", "cannot run in linear time")]
    public void Grep_refuses_bad_parameters(string parameters, string message)
    {
        var error = Assert.Throws<InvalidJobParametersException>(() => Jobs.Get("grep").Instantiate(JobParameters.Parse(parameters)));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_catastrophic_pattern_runs_in_linear_time()
    {
        // With backtracking, ^(a+)+$ on "aaa…a!" takes 2^n steps: 40 characters ran past the old 2 s timeout per line.
        var lines = Enumerable.Range(0, 2000).Select(i => new string('a', 1000) + (i % 2 == 0 ? "!" : "")).ToArray();
        var cpu = System.Diagnostics.Stopwatch.StartNew();

        var (output, _) = Run("grep", """{"pattern":"^(a+)+$"}""", ("rec-1", string.Join('\n', lines)));

        Assert.Equal("1000", Assert.Single(output).Value);
        Assert.InRange(cpu.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Count_by_counts_records_per_field_value_and_counts_what_it_skips()
    {
        var (output, counters) = Run("count-by", """{"field":"date"}""",
            ("c1", """{"user":"ann","date":"2025-04-01"}"""),
            ("c2", """{"user":"bob","date":"2025-04-01"}"""),
            ("c3", """{"user":"ann","date":"2025-04-02"}"""),
            ("c4", """{"user":"cy"}"""),
            ("c5", """{"date":null}"""),
            ("c6", "not json"),
            ("c7", "[1,2]"));

        Assert.Equal(new Dictionary<string, string> { ["2025-04-01"] = "2", ["2025-04-02"] = "1" }, output);
        Assert.Equal(2, counters["recordsWithoutField"]);
        Assert.Equal(2, counters["malformedRecords"]);
    }

    [Fact]
    public void Count_by_follows_dotted_paths_and_groups_non_strings_by_their_json()
    {
        var (output, _) = Run("count-by", """{"field":"meta.n"}""",
            ("1", """{"meta":{"n":1}}"""), ("2", """{"meta":{"n":1.0}}"""), ("3", """{"meta":{"n":true}}"""), ("4", """{"meta":{"n":1}}"""));

        Assert.Equal(new Dictionary<string, string> { ["1"] = "2", ["1.0"] = "1", ["true"] = "1" }, output);
    }

    [Fact]
    public void Sum_by_sums_exact_decimals_per_group()
    {
        var records = Enumerable.Range(0, 30).Select(i => ($"r{i}", $$"""{"day":"d{{i % 3}}","claps":0.1}""")).ToList();
        records.Add(("x", """{"day":"d0","claps":"2.5"}"""));
        records.Add(("y", """{"day":"d0","claps":"many"}"""));

        var (output, counters) = Run("sum-by", """{"field":"day","valueField":"claps"}""", [.. records], reducers: 2, chunkBytes: 64);

        Assert.Equal(new Dictionary<string, string> { ["d0"] = "3.5", ["d1"] = "1.0", ["d2"] = "1.0" }, output);
        Assert.Equal(1, counters["nonNumericValues"]);
    }

    [Fact]
    public void Sum_by_needs_both_fields()
    {
        var error = Assert.Throws<InvalidJobParametersException>(() => Jobs.Get("sum-by").Instantiate(JobParameters.Parse("""{"field":"day"}""")));
        Assert.Contains("parameters.valueField is required", error.Message);
    }

    [Fact]
    public void Inverted_index_lists_the_sorted_distinct_keys_of_records_containing_each_word()
    {
        var (output, _) = Run("inverted-index", "{}", ("doc-b", "apple banana apple"), ("doc-a", "Banana cherry"), ("doc-c", "apple"));

        Assert.Equal("""["doc-b","doc-c"]""", output["apple"]);
        Assert.Equal("""["doc-a","doc-b"]""", output["banana"]);
        Assert.Equal("""["doc-a"]""", output["cherry"]);
    }

    [Fact]
    public void A_job_without_a_combiner_sees_every_value_in_reduce()
    {
        var (output, counters) = Run("longest-line", "{}", ("1", "ab\nabcd\nabc"), ("2", "a"), ("3", "abcdef"));

        Assert.Equal(new Dictionary<string, string> { ["longest"] = "6 of 5" }, output);
        Assert.Equal(counters[JobCounters.MapOutputRecords], counters[JobCounters.CombineOutputRecords]);
    }

    [Fact]
    public void The_partitioner_is_stable_and_spreads_keys()
    {
        // Fixed values: the placement of keys must never change between versions or processes.
        Assert.Equal(Partitioner.ReducerOf("hello", 7), Partitioner.ReducerOf(new string("hello".ToCharArray()), 7));
        Assert.Equal(0, Partitioner.ReducerOf("anything", 1));
        Assert.Equal([1, 3, 4], new[] { "hello", "world", "straße" }.Select(k => Partitioner.ReducerOf(k, 8)));

        var spread = Enumerable.Range(0, 8000).GroupBy(i => Partitioner.ReducerOf("key" + i, 8)).Select(g => g.Count()).ToList();
        Assert.Equal(8, spread.Count);
        Assert.All(spread, count => Assert.InRange(count, 850, 1150));
    }

    [Fact]
    public void Job_type_names_are_checked()
    {
        Assert.Throws<ArgumentException>(() => new MapReduceJobs().Add<LongestLineJob>("Has Spaces"));
        Assert.Equal(["count-by", "grep", "inverted-index", "longest-line", "sum-by", "wordcount"], Jobs.Names);
    }

    /// <summary>Runs a job in memory: map every record (one map task per record), shuffle through the codec, reduce each partition.</summary>
    internal static (Dictionary<string, string> Output, ImmutableDictionary<string, long> Counters) Run(
        string type, string parameters, (string Key, string Value)[] records, int reducers = 3, int chunkBytes = 512 * 1024)
    {
        var definition = Jobs.Get(type);
        var counters = new Dictionary<string, long>();
        var chunksPerReducer = Enumerable.Range(0, reducers).Select(_ => new List<byte[]>()).ToArray();
        foreach (var (key, value) in records)
        {
            var map = definition.CreateMapRunner(JobParameters.Parse(parameters), reducers, chunkBytes);
            map.Map(new InputRecord(key, Encoding.UTF8.GetBytes(value)));
            var output = map.Finish();
            for (var r = 0; r < reducers; r++)
            {
                chunksPerReducer[r].AddRange(output.ChunksPerReducer[r]);
            }

            Add(counters, output.Counters);
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var chunks in chunksPerReducer)
        {
            var reduce = definition.CreateReduceRunner(JobParameters.Parse(parameters));
            foreach (var chunk in chunks)
            {
                reduce.Add(chunk);
            }

            var (items, reduceCounters) = reduce.Finish();
            Assert.Equal(items.Select(i => i.Key).Order(StringComparer.Ordinal), items.Select(i => i.Key));
            foreach (var item in items)
            {
                result.Add(item.Key, item.Value);
            }

            Add(counters, reduceCounters);
        }

        return (result, counters.ToImmutableDictionary());
    }

    private static (Dictionary<string, string> Output, ImmutableDictionary<string, long> Counters) Run(string type, string parameters, params (string, string)[] records) =>
        Run(type, parameters, records, 3);

    private static void Add(Dictionary<string, long> into, IReadOnlyDictionary<string, long> counters)
    {
        foreach (var (name, value) in counters)
        {
            into[name] = into.GetValueOrDefault(name) + value;
        }
    }

    /// <summary>A user job without a combiner: the longest line and how many lines there were.</summary>
    private sealed class LongestLineJob : IMapReduceJob<int>
    {
        public bool HasCombiner => false;

        public void Map(InputRecord record, IMapOutput<int> output) =>
            Words.ForEachLine(record.Text, output, static (o, line) => o.Emit("longest", line.Length));

        public int Combine(int left, int right) => throw new NotSupportedException();

        public string? Reduce(string key, IReadOnlyList<int> values) => $"{values.Max()} of {values.Count}";
    }
}
