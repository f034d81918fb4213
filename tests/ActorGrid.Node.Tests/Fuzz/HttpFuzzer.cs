using System.Globalization;
using System.Text;
using ActorGrid.Naming;

namespace ActorGrid.Node.Tests.Fuzz;

/// <summary>One generated request: method, request target (already percent-encoded as sent), headers, body.</summary>
public sealed record FuzzRequest(
    string Method,
    string Target,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    byte[]? Body,
    string? ContentType)
{
    /// <summary>The request as one line, to print and to paste into a regression case.</summary>
    public override string ToString()
    {
        var body = Body is null ? "" : " body=" + Show(Body);
        var headers = Headers.Count == 0 ? "" : " " + string.Join(" ", Headers.Select(h => $"{h.Key}:{Show(Encoding.UTF8.GetBytes(h.Value))}"));
        return $"{Method} {Target}{headers}{(ContentType is null ? "" : " ct=" + ContentType)}{body}";
    }

    private static string Show(byte[] bytes)
    {
        var text = bytes.Length > 160 ? Encoding.UTF8.GetString(bytes, 0, 160) + $"…({bytes.Length} bytes)" : Encoding.UTF8.GetString(bytes);
        return string.Concat(text.Select(c => c < 0x20 || c is '\u007f' or >= '\ud800' and <= '\udfff' ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}

/// <summary>
/// A seeded generator of hostile HTTP requests for every endpoint of SPEC §5: malformed and hostile names (control
/// characters, trailing newlines, percent-escapes of NUL, CR/LF, overlong UTF-8 and encoded surrogates, very long
/// names, dot segments, Unicode look-alikes), query strings, headers, JSON bodies (truncated, wrong types, huge
/// numbers, escaped lone surrogates, deep nesting, duplicate and unknown properties) and sizes. The same seed gives
/// the same requests. Writes only ever target names starting <c>fz</c> (or hostile ones): the dataset under
/// <c>ds</c> is only read, so it must be byte-identical afterwards.
/// </summary>
public sealed class HttpFuzzer(int seed)
{
    private static readonly string[] HostileNames =
    [
        "x\n", "x\r\n", "\n", "x\0", "x\t", "x\u0085", "x\u2028", "x\ud800", "\udc00x", "😀", "ｘ", "ä", "",
        " ", "a b", "..", ".", "a/b", "a\\b", "a%b", "a?b", "a#b", "$x", "-", "_", "x;y", "x\"y", "x'y", "<x>",
        new string('a', 201), new string('a', 5000), "\u202ex", "CON", "x\u0000\u0000", "\u00ad",
    ];

    // Percent-escapes sent as they are: the node decodes them.
    private static readonly string[] HostileEscapes =
    [
        "x%0A", "x%0D%0A", "%00", "x%00y", "%C0%AF", "%C0%80", "%ED%A0%80", "%ED%B0%80x", "%F4%90%80%80", "%FF%FE", "%E2%80%AE",
        "%2E%2E", "%2F", "a%2Fb", "%", "%G1", "%%", "x%7F", "%25", "a%3Fb=1", "%EF%BC%B8",
    ];

    private static readonly string[] HugeNumbers =
    [
        "-1", "0", "1e400", "-1e400", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "2147483648",
        "1.5", "1e3", "0x10", "NaN", "Infinity", "\"4\"", "null", "true", "[]", "{}", "99999999999999999999999999999",
        "-0", "00", "1E+2",
    ];

    private static readonly string[] HostileStrings =
    [
        "\"\\ud800\"", "\"\\udc00\"", "\"a\\ud800b\"", "\"\\ud800\\ud800\"", "\"x\\n\"", "\"\\u0000\"", "\"\"", "\"😀\"",
        "\"" + new string('a', 300) + "\"", "null", "7", "[]", "{}", "\"\\\"\"",
    ];

    private readonly Random _random = new(seed);

    /// <summary>The next request.</summary>
    public FuzzRequest Next() => Pick(
        KvPut, KvPut, KvGet, KvDelete, KvScan,
        TopicPut, TopicGet, TopicList, Produce, Produce, Fetch,
        GroupJoin, GroupPoll, GroupCommit, GroupLeave, GroupGet, GroupStream,
        JobPost, JobPost, JobGet, JobResult, JobDelete, JobList,
        Cluster, WrongMethod)();

    // ------------------------------------------------------------------ KV

    private FuzzRequest KvPut()
    {
        var query = Chance(3) ? "?ttl=" + Pick("1", "3600", "0", "-1", "abc", "3153600001", "1.5", "99999999999999999999", "", "%00") : "";
        var headers = new List<KeyValuePair<string, string>>();
        if (Chance(3))
        {
            headers.Add(new("If-Match", Pick("\"1\"", "\"0\"", "*", "W/\"1\"", "1", "\"-1\"", "\"99999999999999999999\"", "\"a\"", "\"1\", \"2\"", "")));
        }

        if (Chance(4))
        {
            headers.Add(new("If-None-Match", Pick("*", "\"1\"", "x", "")));
        }

        return new FuzzRequest("PUT", "kv/" + KvKey() + query, headers, Bytes(), Pick<string?>(null, "application/octet-stream", "text/plain", "application/json"));
    }

    private FuzzRequest KvGet() =>
        new("GET", "kv/" + KvKey(readDataset: true) + (Chance(3) ? "?consistency=" + Pick("strong", "replica", "REPLICA", "", "x%0A", "eventual") : ""), [], null, null);

    private FuzzRequest KvDelete() =>
        new("DELETE", "kv/" + KvKey(), Chance(3) ? [new("If-Match", Pick("\"1\"", "*", "\"x\"", "\"99999999999999999999\""))] : [], null, null);

    private FuzzRequest KvScan()
    {
        var parts = new List<string>();
        if (Chance(2)) parts.Add("prefix=" + Pick("ds/", "fz/", "", "%00", "x%0A", "%ED%A0%80", new string('p', 1100), "%C0%AF"));
        if (Chance(2)) parts.Add("limit=" + Pick("1", "1000", "1001", "0", "-5", "abc", "99999999999999999999", ""));
        if (Chance(3)) parts.Add("after=" + Pick("ds/3", "", "%0A", "\u00ff", "%FF"));
        return new FuzzRequest("GET", "kv" + (parts.Count > 0 ? "?" + string.Join("&", parts) : ""), [], null, null);
    }

    private string KvKey(bool readDataset = false)
    {
        if (readDataset && Chance(4))
        {
            return "ds/" + _random.Next(0, 24).ToString(CultureInfo.InvariantCulture);
        }

        return Pick(
            () => "fz/" + Number(1000),
            () => "fz/" + Uri.EscapeDataString(Pick(HostileNames)),
            () => "fz/" + Pick(HostileEscapes),
            () => Pick(HostileEscapes),
            () => "fz/" + new string('k', Pick(1020, 1025, 2000, 9000)),
            () => "fz/a//b/../c",
            () => "fz/" + Uri.EscapeDataString("ключ/鍵/🔑"))();
    }

    // ------------------------------------------------------------------ topics

    private FuzzRequest TopicPut()
    {
        var name = Name("fzt").Name;
        var partitions = Pick("1", "2", "3", "1024", "1025", "0", "-1", "1e9", "2147483648", "\"2\"", "null", "1.5");
        var body = JsonObject(
            ("partitions", partitions),
            ("retentionMessages", Pick("null", "1", "0", "-1", "9223372036854775807", "1e400")),
            ("retentionSeconds", Pick("null", "60", "0", "9223372036854775807", "-9223372036854775808")));
        return Json("PUT", "topics/" + name, MutateMaybe(body));
    }

    private FuzzRequest TopicGet() => new("GET", "topics/" + Name("fzt", readDataset: "ds-topic").Name, [], null, null);

    private FuzzRequest TopicList() => new("GET", "topics" + Pick("", "?x=1", "?%00=%0A", "/"), [], null, null);

    private FuzzRequest Produce()
    {
        var records = Pick(
            () => "[" + string.Join(",", Enumerable.Range(0, Pick(1, 2, 5)).Select(_ => Record())) + "]",
            () => "[]",
            () => "[null]",
            () => "[" + string.Join(",", Enumerable.Repeat("{\"value\":\"v\"}", 10_001)) + "]",
            () => Pick(HugeNumbers))();
        var body = JsonObject(
            ("records", records),
            ("producerId", Pick("null", "\"fzp\"", "\"p\\n\"", "\"\\ud800\"", "7", "\"\"")),
            ("sequence", Pick("null", "0", "-1", "9223372036854775807", "1e400", "\"0\"")));
        return Json("POST", $"topics/{Name("fzt").Name}/messages", MutateMaybe(body));
    }

    private string Record() => JsonObject(
        ("key", Pick("null", "\"k\"", "\"\"", "\"\\ud800\"", "\"" + new string('k', 2000) + "\"", "5")),
        (Pick("value", "valueBase64"), Pick("\"v\"", "\"\\ud800\"", "\"!!notbase64\"", "\"AAAA\"", "null", "[]", "\"" + new string('v', Pick(10, 70_000)) + "\"")));

    private FuzzRequest Fetch()
    {
        var query = string.Join("&", new[]
        {
            Chance(2) ? "offset=" + Pick("0", "-1", "5", "99999999999999999999", "9223372036854775807", "x", "") : null,
            Chance(2) ? "max=" + Pick("1", "0", "-1", "1000000", "2147483648", "x") : null,
            Chance(3) ? "waitMs=" + Pick("0", "10", "-1", "99999999999999999999", "x") : null,
        }.OfType<string>());
        var partition = Pick("0", "1", "-1", "99", "2147483648", "x", "%00", "0%0A", "1.0");
        return new FuzzRequest("GET", $"topics/{Name("fzt", readDataset: "ds-topic").Name}/partitions/{partition}/messages" + (query.Length > 0 ? "?" + query : ""), [], null, null);
    }

    // ------------------------------------------------------------------ groups

    private FuzzRequest GroupJoin()
    {
        var name = Name("fzg").Name;
        var topics = Pick(
            () => "[\"" + Name("fzt").Name.Replace("\"", "", StringComparison.Ordinal) + "\"]",
            () => "[\"ds-topic\"]",
            () => "[]",
            () => "[" + string.Join(",", Enumerable.Range(0, 150).Select(i => $"\"fzt-n{i}\"")) + "]",
            () => "[\"t\\n\"]",
            () => "[\"\\ud800\"]",
            () => "\"ds-topic\"",
            () => "null")();
        var body = JsonObject(
            ("topics", topics),
            ("sessionTimeoutMs", Pick("null", "1000", "0", "-1", "2147483648", "1e400")),
            ("memberId", Pick("null", "\"fzm\"", "\"m\\n\"", "\"\"")));
        return Json("POST", $"groups/{name}/join", MutateMaybe(body));
    }

    private FuzzRequest GroupPoll() => Json("POST", $"groups/{Name("fzg").Name}/poll", MutateMaybe(JsonObject(
        ("memberId", Member()),
        ("max", Pick("1", "0", "-1", "1000000", "null", "1e400")),
        ("waitMs", Pick("0", "10", "-1", "null", "99999999999")),
        ("maxBytes", Pick("null", "1", "0", "-1", "2147483647")))));

    private FuzzRequest GroupCommit() => Json("POST", $"groups/{Name("fzg").Name}/commit", MutateMaybe(JsonObject(
        ("memberId", Member()),
        ("generation", Pick("null", "1", "-1", "2147483648")),
        ("offsets", Pick(
            () => "[{\"topic\":\"fzt\",\"partition\":0,\"offset\":1}]",
            () => "[{\"topic\":\"ds-topic\",\"partition\":-1,\"offset\":-1}]",
            () => "[" + string.Join(",", Enumerable.Range(0, 10_001).Select(i => $"{{\"topic\":\"fzt\",\"partition\":{i},\"offset\":0}}")) + "]",
            () => "[null]",
            () => "[{\"topic\":\"\\ud800\",\"partition\":0,\"offset\":0}]",
            () => "{}")()))));

    private FuzzRequest GroupLeave() => Json("POST", $"groups/{Name("fzg").Name}/leave", MutateMaybe(JsonObject(("memberId", Member()))));

    private FuzzRequest GroupGet() => new("GET", "groups/" + Name("fzg", readDataset: "ds-group").Name, [], null, null);

    private FuzzRequest GroupStream()
    {
        // Only requests that must be refused at once: a stream that is accepted runs until the client goes.
        var name = Chance(2) ? Pick(HostileEscapes) : Uri.EscapeDataString(Pick(HostileNames.Where(n => n.Length > 0 && !GridNames.Broker.IsValid(n)).ToArray()));
        return new FuzzRequest("GET", $"groups/{name}/stream?topics=" + Pick("ds-topic", "", "a,,b", "%0A", "x%00"), [], null, null);
    }

    private string Member() => Pick("\"fzm\"", "\"m-0000000000000000\"", "null", "\"\"", "\"m\\n\"", "\"\\ud800\"", "5", "\"" + new string('m', 300) + "\"");

    // ------------------------------------------------------------------ jobs

    private FuzzRequest JobPost()
    {
        var type = Pick("\"wordcount\"", "\"grep\"", "\"count-by\"", "\"sum-by\"", "\"inverted-index\"", "\"nope\"", "\"WordCount\"", "\"wordcount\\n\"", "null", "7");
        var input = Pick(
            () => "{\"text\":\"a b a\"}",
            () => "{\"text\":\"\\ud800\"}",
            () => "{\"text\":\"\"}",
            () => "{\"kvPrefix\":\"ds/\"}",
            () => "{\"kvPrefix\":\"\\u0000\"}",
            () => "{\"topic\":\"ds-topic\"}",
            () => "{\"topic\":\"t\\n\"}",
            () => "{\"text\":\"a\",\"topic\":\"ds-topic\"}",
            () => "{\"text\":\"" + new string('w', 1_100_000) + "\"}",
            () => "\"text\"")();
        var parameters = Pick(
            () => "{}",
            () => "{\"pattern\":\"^(a+)+$\"}",
            () => "{\"pattern\":\"(a)\\\\1\"}",
            () => "{\"pattern\":\"\\ud800\"}",
            () => "{\"pattern\":\"" + new string('a', 1001) + "\"}",
            () => "{\"pattern\":\"[\"}",
            () => "{\"field\":\"a..b\"}",
            () => "{\"field\":\"date\",\"valueField\":\"n\"}",
            () => "[]")();
        var jobId = Pick(
            () => "null",
            () => $"\"fzj{Number(100_000)}\"",
            () => "\"x\\n\"",
            () => "\"x\\r\\n\"",
            () => "\"a.b\"",
            () => "\"\\ud800\"",
            () => "\"" + new string('j', 65) + "\"",
            () => "\"ds-job\"")();
        var body = JsonObject(
            ("type", type),
            ("jobId", jobId),
            ("input", input),
            ("output", Pick("null", "{\"kvPrefix\":\"fz-out/\"}", "{\"kvPrefix\":\"\"}", "{\"kvPrefix\":\"\\ud800\"}", "\"out/\"")),
            ("reducers", Pick("null", "1", "2", "0", "257", "-1", "1e400", "\"4\"")),
            ("parameters", parameters));
        return Json("POST", "jobs", MutateMaybe(body));
    }

    private FuzzRequest JobGet() => new("GET", "jobs/" + JobId(), [], null, null);

    private FuzzRequest JobResult() =>
        new("GET", $"jobs/{JobId()}/result" + Pick("", "?limit=0", "?limit=1001", "?limit=abc", "?after=%00", "?limit=1&after=a"), [], null, null);

    private FuzzRequest JobDelete() => new("DELETE", "jobs/" + JobId(dataset: false), [], null, null);

    private FuzzRequest JobList() => new("GET", "jobs" + Pick("", "?limit=1", "?limit=0", "?limit=-1", "?limit=abc", "?limit=99999999999999999999", "?limit=1001"), [], null, null);

    private string JobId(bool dataset = true) => dataset && Chance(4) ? "ds-job" : Name("fzj").Name;

    // ------------------------------------------------------------------ the rest

    private FuzzRequest Cluster() => new("GET", Pick("cluster", "cluster/shards", "health/live", "health/ready", "cluster/%00", "cluster/shards?x=%0A", "groups", "groups?limit=%00", "metrics"), [], null, null);

    private FuzzRequest WrongMethod() =>
        new(Pick("PATCH", "POST", "OPTIONS", "HEAD", "TRACE"), Pick("kv/fz/a", "topics", "jobs/fzj", "groups/fzg", "cluster", "kv"), [], Chance(2) ? Bytes() : null, null);

    // ------------------------------------------------------------------ building blocks

    /// <summary>
    /// A name for a path segment: mostly hostile (raw, then escaped for the URL, or a percent-escape sent as is),
    /// sometimes a valid unknown name, for reads sometimes a dataset name. Valid says whether the node should accept it.
    /// </summary>
    private (string Name, bool Valid) Name(string prefix, string? readDataset = null)
    {
        if (readDataset is not null && Chance(4))
        {
            return (readDataset, true);
        }

        return _random.Next(4) switch
        {
            0 => ($"{prefix}-{Number(1000)}", true),
            1 => (Pick(HostileEscapes), false),
            2 => (prefix + Pick(HostileEscapes), false),
            _ => (Uri.EscapeDataString(Pick(HostileNames)) is { Length: > 0 } escaped ? escaped : "%20", false),
        };
    }

    private FuzzRequest Json(string method, string target, string body)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var mangled = _random.Next(12) switch
        {
            0 => [0xEF, 0xBB, 0xBF, .. bytes], // BOM
            1 => bytes[..(bytes.Length / 2)], // truncated
            2 => [.. bytes, 0xFF], // invalid UTF-8 after the document
            3 => Replace(bytes, "\"v\""u8.ToArray(), [0x22, 0xC0, 0xAF, 0x22]), // overlong UTF-8 inside a string
            4 => Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000)), // deep nesting
            5 => [], // empty
            _ => bytes,
        };
        var contentType = Pick<string?>("application/json", "application/json", "application/json; charset=utf-8", "text/plain", null, "application/json; charset=latin1");
        return new FuzzRequest(method, target, [], mangled, contentType);
    }

    private string MutateMaybe(string json)
    {
        if (!Chance(3))
        {
            return json;
        }

        return _random.Next(5) switch
        {
            0 => json.Insert(1, $"\"unknown{Number(9)}\":1,"),
            1 => json.Insert(1, json[1..^1] + ","), // duplicate properties
            2 => json.Replace("null", Pick(HugeNumbers), StringComparison.Ordinal),
            3 => json.Replace("\"fz", Pick(HostileStrings)[..^1] + "fz", StringComparison.Ordinal),
            _ => json.Replace(":", ":" + Pick("[", "{", ""), StringComparison.Ordinal),
        };
    }

    private static string JsonObject(params (string Name, string Value)[] properties) =>
        "{" + string.Join(",", properties.Select(p => $"\"{p.Name}\":{p.Value}")) + "}";

    private byte[] Bytes()
    {
        var size = Pick(0, 1, 10, 100, 65_536, 65_537, 300_000);
        var bytes = new byte[size];
        _random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Replace(byte[] bytes, byte[] what, byte[] with)
    {
        var at = bytes.AsSpan().IndexOf(what);
        return at < 0 ? bytes : [.. bytes[..at], .. with, .. bytes[(at + what.Length)..]];
    }

    private int Number(int max) => _random.Next(max);

    private bool Chance(int oneIn) => _random.Next(oneIn) == 0;

    private T Pick<T>(params T[] choices) => choices[_random.Next(choices.Length)];
}
