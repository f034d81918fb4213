using System.Buffers;
using System.Text;
using ActorGrid.Resp;

namespace ActorGrid.Resp.Tests;

public sealed class RespParserTests
{
    private static readonly RespLimits Limits = new(MaxBulkBytes: 16, MaxArrayLength: 4, MaxInlineBytes: 64, MaxPipelineDepth: 8);

    [Fact]
    public void Parses_every_complete_command_of_a_pipeline_and_stops_inside_the_next()
    {
        var input = "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$2\r\nxy\r\n*2\r\n$3\r\nGE";
        var (parsed, status, consumed) = ParseAll(new RespParser(Limits), Segmented(input, 3));

        Assert.Equal(ParseStatus.Incomplete, status);
        Assert.Equal(["GET a", "SET b xy"], parsed);
        Assert.Equal(input.IndexOf("*2\r\n$3\r\nGE", 10, StringComparison.Ordinal), consumed);
    }

    [Fact]
    public void Parses_inline_commands()
    {
        var (parsed, status, _) = ParseAll(new RespParser(Limits), Segmented("PING\r\nECHO  hello\tworld\r\n\r\n", 4));

        Assert.Equal(ParseStatus.Incomplete, status);
        Assert.Equal(["PING", "ECHO hello world", ""], parsed);
    }

    [Fact]
    public void Refuses_an_oversized_argument_without_buffering_it_and_stays_in_step()
    {
        var big = new string('x', 40);
        var parser = new RespParser(Limits);
        var first = $"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$40\r\n{big[..10]}";
        var (parsed, status, consumed) = ParseAll(parser, Segmented(first, 5));
        Assert.Equal(ParseStatus.Incomplete, status);
        Assert.Empty(parsed);
        Assert.Equal(first.Length, consumed); // the body's start was dropped, not kept

        var (rest, _, _) = ParseAll(parser, Segmented(big[10..] + "\r\n*1\r\n$4\r\nPING\r\n", 7));
        Assert.Equal(["!Protocol error: argument of 40 bytes (the limit is 16)", "PING"], rest);
    }

    [Fact]
    public void Refuses_too_many_arguments_and_skips_them()
    {
        var (parsed, _, _) = ParseAll(new RespParser(Limits), Segmented("*5\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n*1\r\n$4\r\nPING\r\n", 64));

        Assert.Equal(["!Protocol error: too many arguments (5; the limit is 4)", "PING"], parsed);
    }

    [Theory]
    [InlineData("*2\r\n+OK\r\n")]
    [InlineData("*x\r\n")]
    [InlineData("*1\r\n$-5\r\n")]
    [InlineData("*1\r\n$3\r\nabcde\r\n")]
    public void Broken_framing_is_a_protocol_error(string input)
    {
        var parser = new RespParser(Limits);
        var (_, status, _) = ParseAll(parser, Segmented(input, 64));

        Assert.Equal(ParseStatus.ProtocolError, status);
        Assert.StartsWith("Protocol error", parser.ProtocolErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_arrays_are_ignored()
    {
        var (parsed, _, _) = ParseAll(new RespParser(Limits), Segmented("*0\r\n*1\r\n$4\r\nPING\r\n", 64));

        Assert.Equal(["", "PING"], parsed);
    }

    private static (List<string> Parsed, ParseStatus Last, long Consumed) ParseAll(RespParser parser, ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        var parsed = new List<string>();
        while (true)
        {
            var request = new RespRequest();
            var status = parser.TryParse(ref reader, request);
            if (status != ParseStatus.Complete)
            {
                return (parsed, status, reader.Consumed);
            }

            parsed.Add(request.Refusal is { Length: > 0 } refusal ? "!" + refusal
                : string.Join(' ', Enumerable.Range(0, request.Count).Select(i => Encoding.UTF8.GetString(request[i].ToArray()))));
        }
    }

    // The input split into segments of `size` bytes, as a socket delivers it.
    private static ReadOnlySequence<byte> Segmented(string text, int size)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        Segment? first = null, last = null;
        for (var i = 0; i < bytes.Length; i += size)
        {
            var chunk = bytes.AsMemory(i, Math.Min(size, bytes.Length - i));
            last = last is null ? first = new Segment(chunk, 0) : last.Append(chunk);
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long index)
        {
            Memory = memory;
            RunningIndex = index;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
