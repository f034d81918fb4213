#nullable enable
namespace ActorGrid.Configuration;

/// <summary>The Redis front door's settings (<c>ActorGrid:Resp</c>).</summary>
public sealed record RespOptions
{
    /// <summary>TCP port of the RESP listener (<c>--resp</c>); 0 turns the front door off.</summary>
    public int Port { get; init; } = 6379;

    /// <summary>Longest argument accepted, in bytes (Redis' <c>proto-max-bulk-len</c>); at least <c>Kv:MaxValueBytes</c> is sensible.</summary>
    public long MaxBulkBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Most arguments in one command (MSET k v …, XADD fields).</summary>
    public int MaxArguments { get; init; } = 64 * 1024;

    /// <summary>Longest inline command (a line typed without RESP framing).</summary>
    public int MaxInlineBytes { get; init; } = 64 * 1024;

    /// <summary>Most commands taken from one read before their replies are written; further ones wait in the socket buffer.</summary>
    public int MaxPipelineDepth { get; init; } = 1024;
}
