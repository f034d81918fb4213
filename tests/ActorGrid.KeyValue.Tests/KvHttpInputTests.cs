using ActorGrid.Client;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.KeyValue.Tests;

public sealed class KvHttpInputTests
{
    [Theory]
    [InlineData("/kv/a", "a")]
    [InlineData("/kv/a/b/c?ttl=3", "a/b/c")]
    [InlineData("/kv/a%2Fb", "a/b")]
    [InlineData("/kv/sp%20ace%3F%23%25", "sp ace?#%")]
    [InlineData("/kv/%C3%A9t%C3%A9", "été")]
    [InlineData("/kv/a+b", "a+b")]
    public void Keys_are_decoded_exactly_from_the_request_target(string target, string expected)
    {
        Assert.Null(KvHttpInput.DecodeKey(target, "/kv/", out var key));
        Assert.Equal(expected, key);
    }

    [Theory]
    [InlineData("/kv/")]
    [InlineData("/kv/%zz")]
    [InlineData("/kv/%C3")]
    [InlineData("/kv/%FF")]
    [InlineData("/kv/a%0Ab")]
    [InlineData("/kv/a%7F")]
    public void Malformed_or_invalid_keys_are_refused(string target) =>
        Assert.NotNull(KvHttpInput.DecodeKey(target, "/kv/", out _));

    [Fact]
    public void Keys_over_1024_bytes_are_refused()
    {
        Assert.Null(KvHttpInput.DecodeKey("/kv/" + new string('a', 1024), "/kv/", out _));
        Assert.NotNull(KvHttpInput.DecodeKey("/kv/" + new string('a', 1025), "/kv/", out _));
    }

    [Theory]
    [InlineData(null, null, PreconditionKind.None, 0L)]
    [InlineData("\"7\"", null, PreconditionKind.Version, 7L)]
    [InlineData(" \"12\" ", null, PreconditionKind.Version, 12L)]
    [InlineData("*", null, PreconditionKind.Exists, 0L)]
    [InlineData(null, "*", PreconditionKind.Absent, 0L)]
    public void Preconditions_are_parsed(string? ifMatch, string? ifNoneMatch, PreconditionKind kind, long version)
    {
        Assert.Null(KvHttpInput.ParsePrecondition(ifMatch, ifNoneMatch, allowIfNoneMatch: true, out var precondition));
        Assert.Equal(new Precondition(kind, version), precondition);
    }

    [Theory]
    [InlineData("7", null)]
    [InlineData("\"0\"", null)]
    [InlineData("\"-1\"", null)]
    [InlineData("W/\"1\"", null)]
    [InlineData("\"1\", \"2\"", null)]
    [InlineData("\"x\"", null)]
    [InlineData(null, "\"1\"")]
    [InlineData("\"1\"", "*")]
    public void Malformed_preconditions_are_refused(string? ifMatch, string? ifNoneMatch) =>
        Assert.NotNull(KvHttpInput.ParsePrecondition(ifMatch, ifNoneMatch, allowIfNoneMatch: true, out _));

    [Fact]
    public void Delete_refuses_if_none_match() =>
        Assert.NotNull(KvHttpInput.ParsePrecondition(null, "*", allowIfNoneMatch: false, out _));

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("abc")]
    [InlineData("")]
    [InlineData("99999999999999999999")]
    public void Bad_ttl_is_refused(string ttl) => Assert.NotNull(KvHttpInput.ParseTtl(ttl, out _));

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("-3")]
    [InlineData("ten")]
    public void Bad_limit_is_refused(string limit) => Assert.NotNull(KvHttpInput.ParseLimit(limit, out _));

    [Fact]
    public void Good_ttl_limit_and_consistency_are_parsed()
    {
        Assert.Null(KvHttpInput.ParseTtl("30", out var ttl));
        Assert.Equal(30, ttl);
        Assert.Null(KvHttpInput.ParseLimit(null, out var limit));
        Assert.Equal(Settings.DefaultScanLimit, limit);
        Assert.Null(KvHttpInput.ParseConsistency("replica", out var replica));
        Assert.True(replica);
        Assert.NotNull(KvHttpInput.ParseConsistency("eventual", out _));
    }

    [Theory]
    [InlineData("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324")]
    [InlineData("\"quoted:key\"", "quoted:key")]
    [InlineData("~!#$%&'()*+,./:;<=>?@[]^_`{|}", "~!#$%&'()*+,./:;<=>?@[]^_`{|}")]
    public void Idempotency_keys_are_parsed(string header, string expected)
    {
        Assert.Null(KvHttpInput.ParseIdempotencyKey([header], out var key));
        Assert.Equal(expected, key);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\"\"")]
    [InlineData("two words")]
    [InlineData("line\nbreak")]
    [InlineData("del\u007f")]
    [InlineData("é")]
    [InlineData("\ud800")]
    [InlineData("a\"b")]
    public void Malformed_idempotency_keys_are_refused(string header) =>
        Assert.Contains("Idempotency-Key", KvHttpInput.ParseIdempotencyKey([header], out _));

    [Fact]
    public void Idempotency_keys_are_at_most_255_characters_and_given_once()
    {
        Assert.Null(KvHttpInput.ParseIdempotencyKey([new string('k', 255)], out _));
        Assert.NotNull(KvHttpInput.ParseIdempotencyKey([new string('k', 256)], out _));
        Assert.NotNull(KvHttpInput.ParseIdempotencyKey(["a", "b"], out _));
        Assert.Null(KvHttpInput.ParseIdempotencyKey([], out var none));
        Assert.Null(none);
    }

    [Fact]
    public void Client_encodes_every_key_so_the_server_decodes_it_back()
    {
        foreach (var key in new[] { "a/b", "sp ace?#%", "été/ü", "a%2Fb", "x+y=z&w" })
        {
            var uri = KvClient.KeyUri(key);
            Assert.Null(KvHttpInput.DecodeKey("/" + uri, "/kv/", out var decoded));
            Assert.Equal(key, decoded);
        }

        Assert.Throws<ArgumentException>(() => KvClient.KeyUri("a/../b"));
    }
}
