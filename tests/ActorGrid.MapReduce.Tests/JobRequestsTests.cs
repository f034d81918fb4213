using System.Text.Json;
using ActorGrid.MapReduce.Jobs;
using static ActorGrid.MapReduce.MapReduceProtocol;

namespace ActorGrid.MapReduce.Tests;

/// <summary>A <c>POST /jobs</c> body is checked completely before anything runs.</summary>
public sealed class JobRequestsTests
{
    private static readonly Settings Settings = Settings.Default(2) with { MaxTextChars = 100 };

    [Fact]
    public void A_valid_request_becomes_a_job_spec()
    {
        var (spec, jobId) = Parse("""{"type":"count-by","input":{"kvPrefix":"claps/2025-04-"},"output":{"kvPrefix":"claps-per-day/"},"reducers":3,"parameters":{"field":"date"},"jobId":"april"}""");

        Assert.Equal("april", jobId);
        Assert.Equal("count-by", spec.Type);
        Assert.Equal("claps/2025-04-", spec.Input.KvPrefix);
        Assert.Equal("kvPrefix", spec.Input.Kind);
        Assert.Equal("claps-per-day/", spec.OutputKvPrefix);
        Assert.Equal(3, spec.Reducers);
        Assert.Equal("date", JsonDocument.Parse(spec.Parameters).RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public void Defaults_apply_when_optional_parts_are_absent()
    {
        var (spec, jobId) = Parse("""{"type":"wordcount","input":{"text":"a b"}}""");

        Assert.Null(jobId);
        Assert.Null(spec.OutputKvPrefix);
        Assert.Equal(Settings.DefaultReducers, spec.Reducers);
        Assert.Equal("{}", spec.Parameters);
    }

    [Theory]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("""{"input":{"text":"a"}}""", "type is required")]
    [InlineData("""{"type":"nope","input":{"text":"a"}}""", "unknown job type 'nope' (known: count-by, grep, inverted-index, sum-by, wordcount)")]
    [InlineData("""{"type":"wordcount"}""", "input is required")]
    [InlineData("""{"type":"wordcount","input":{}}""", "exactly one of text, kvPrefix, topic")]
    [InlineData("""{"type":"wordcount","input":{"text":"a","kvPrefix":"b"}}""", "exactly one of text, kvPrefix, topic")]
    [InlineData("""{"type":"wordcount","input":{"file":"a"}}""", "exactly one of text, kvPrefix, topic")]
    [InlineData("""{"type":"wordcount","input":{"text":""}}""", "input.text is empty")]
    [InlineData("""{"type":"wordcount","input":{"text":7}}""", "input.text must be a string")]
    [InlineData("""{"type":"wordcount","input":{"kvPrefix":""}}""", "input.kvPrefix must not be empty")]
    [InlineData("""{"type":"wordcount","input":{"topic":"a b"}}""", "input.topic must be")]
    [InlineData("""{"type":"wordcount","input":{"text":"a"},"reducers":0}""", "reducers must be an integer from 1 to 256")]
    [InlineData("""{"type":"wordcount","input":{"text":"a"},"reducers":1000000}""", "reducers must be an integer from 1 to 256")]
    [InlineData("""{"type":"wordcount","input":{"text":"a"},"reducers":"4"}""", "reducers must be an integer")]
    [InlineData("""{"type":"wordcount","input":{"text":"a"},"parameters":[]}""", "parameters must be a JSON object")]
    [InlineData("""{"type":"grep","input":{"text":"a"}}""", "grep: parameters.pattern is required")]
    [InlineData("""{"type":"grep","input":{"text":"a"},"parameters":{"pattern":"[a"}}""", "not a valid regular expression")]
    [InlineData("""{"type":"count-by","input":{"text":"a"},"parameters":{"field":"a..b"}}""", "is not a field name or a dotted path")]
    [InlineData("""{"type":"wordcount","input":{"text":"a"},"output":"out/"}""", "output must be {\"kvPrefix\":\"out/\"}")]
    [InlineData("""{"type":"wordcount","input":{"kvPrefix":"docs/"},"output":{"kvPrefix":"docs/out/"}}""", "overlaps input.kvPrefix")]
    [InlineData("""{"type":"wordcount","input":{"text":"a"},"jobId":"has space"}""", "jobId must be")]
    [InlineData("""{"type":"wordcount","input":{"text":"a"},"reducer":4}""", "unknown property 'reducer'")]
    // Regressions (issue 14): `$` matched before a trailing newline, so "x\n" was a valid id, and an escaped lone
    // surrogate threw InvalidOperationException (500) out of JsonElement.GetString.
    [InlineData("""{"type":"wordcount","input":{"text":"a"},"jobId":"x\n"}""", "jobId must be")]
    [InlineData("""{"type":"wordcount","input":{"text":"a"},"jobId":"x\u0000"}""", "jobId must be")]
    [InlineData("""{"type":"wordcount","input":{"text":"\ud800"}}""", "not valid Unicode")]
    [InlineData("""{"type":"wordcount","input":{"kvPrefix":"a\udc00b"}}""", "not valid Unicode")]
    [InlineData("""{"type":"grep","input":{"text":"a"},"parameters":{"pattern":"\ud800"}}""", "not valid Unicode")]
    [InlineData("""{"type":"wordcount","input":{"topic":"t\n"}}""", "input.topic must be")]
    [InlineData("""{"type":"grep","input":{"text":"a"},"parameters":{"pattern":"(a+)+\\1"}}""", "cannot run in linear time")]
    [InlineData("""{"type":"grep","input":{"text":"a"},"parameters":{"pattern":"(?=a)a"}}""", "cannot run in linear time")]
    public void Bad_requests_are_refused_with_a_message_naming_the_problem(string body, string message)
    {
        var error = Assert.Throws<JobRequestException>(() => Parse(body));

        Assert.Equal(400, error.Status);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void A_grep_pattern_longer_than_the_cap_is_refused()
    {
        var body = """{"type":"grep","input":{"text":"a"},"parameters":{"pattern":"P"}}""".Replace("P", new string('a', GrepJob.MaxPatternChars + 1), StringComparison.Ordinal);

        var error = Assert.Throws<JobRequestException>(() => Parse(body));

        Assert.Equal(400, error.Status);
        Assert.Contains($"at most {GrepJob.MaxPatternChars}", error.Message);
    }

    [Fact]
    public void Inline_text_beyond_the_limit_is_too_large()
    {
        var error = Assert.Throws<JobRequestException>(() => Parse("""{"type":"wordcount","input":{"text":"TEXT"}}""".Replace("TEXT", new string('a', 101), StringComparison.Ordinal)));

        Assert.Equal(413, error.Status);
        Assert.Contains("use kvPrefix", error.Message);
    }

    [Fact]
    public void Inputs_and_outputs_of_missing_roles_are_refused()
    {
        var kv = Assert.Throws<JobRequestException>(() => Parse("""{"type":"wordcount","input":{"kvPrefix":"docs/"}}""", hasKeyValue: false));
        Assert.Contains("needs the kv role", kv.Message);

        var output = Assert.Throws<JobRequestException>(() => Parse("""{"type":"wordcount","input":{"text":"a"},"output":{"kvPrefix":"out/"}}""", hasKeyValue: false));
        Assert.Contains("output.kvPrefix needs the kv role", output.Message);

        var topic = Assert.Throws<JobRequestException>(() => Parse("""{"type":"wordcount","input":{"topic":"t"}}""", hasBroker: false));
        Assert.Contains("needs the broker role", topic.Message);
    }

    private static (JobSpec Spec, string? JobId) Parse(string body, bool hasKeyValue = true, bool hasBroker = true)
    {
        using var document = JsonDocument.Parse(body);
        return JobRequests.Parse(document.RootElement, new MapReduceJobs(), Settings, hasKeyValue, hasBroker);
    }
}
