#nullable enable
namespace ActorGrid.Resp;

/// <summary>The Redis front door's settings (configuration section <c>ActorGrid:Resp</c>).</summary>
public sealed record RespOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "ActorGrid:Resp";

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

    /// <summary>Why these options are invalid (naming the key), or null.</summary>
    public string? Validate() =>
        Port is < 0 or > 65535 ? $"ActorGrid:Resp:Port must be 0-65535 (got {Port})"
        : MaxBulkBytes < 1024 ? $"ActorGrid:Resp:MaxBulkBytes must be at least 1024 (got {MaxBulkBytes})"
        : MaxArguments < 16 ? $"ActorGrid:Resp:MaxArguments must be at least 16 (got {MaxArguments})"
        : MaxInlineBytes < 1024 ? $"ActorGrid:Resp:MaxInlineBytes must be at least 1024 (got {MaxInlineBytes})"
        : MaxPipelineDepth < 1 ? $"ActorGrid:Resp:MaxPipelineDepth must be at least 1 (got {MaxPipelineDepth})"
        : null;
}
