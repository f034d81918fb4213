#nullable enable
using Microsoft.AspNetCore.Http;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Gateway;

/// <summary>A broker request that cannot be served, with the HTTP status and detail the user sees.</summary>
public sealed class BrokerRequestException(int status, string title, string detail, BrokerErrorCode? code = null) : Exception(detail)
{
    /// <summary>The entity's refusal code, when an entity refused.</summary>
    public BrokerErrorCode? Code { get; } = code;

    /// <summary>HTTP status code.</summary>
    public int Status { get; } = status;

    /// <summary>Problem title.</summary>
    public string Title { get; } = title;

    /// <summary>400.</summary>
    public static BrokerRequestException BadRequest(string detail) => new(StatusCodes.Status400BadRequest, "Bad request", detail);

    /// <summary>403.</summary>
    public static BrokerRequestException Forbidden(string detail) => new(StatusCodes.Status403Forbidden, "Forbidden", detail);

    /// <summary>404.</summary>
    public static BrokerRequestException NotFound(string detail) => new(StatusCodes.Status404NotFound, "Not found", detail);

    /// <summary>413.</summary>
    public static BrokerRequestException TooLarge(string detail) => new(StatusCodes.Status413PayloadTooLarge, "Payload too large", detail);

    /// <summary>The exception for an entity's refusal.</summary>
    public static BrokerRequestException From(BrokerError error) => error.Code switch
    {
        BrokerErrorCode.TopicNotFound or BrokerErrorCode.GroupNotFound or BrokerErrorCode.UnknownMember =>
            new(StatusCodes.Status404NotFound, "Not found", error.Detail, error.Code),
        BrokerErrorCode.OffsetOutOfRange => new(StatusCodes.Status416RangeNotSatisfiable, "Offset out of range", error.Detail, error.Code),
        BrokerErrorCode.StaleGeneration or BrokerErrorCode.NotAssigned or BrokerErrorCode.SequenceConflict or BrokerErrorCode.LimitReached
            or BrokerErrorCode.GroupNotEmpty =>
            new(StatusCodes.Status409Conflict, "Conflict", error.Detail, error.Code),
        BrokerErrorCode.TooLarge => new(StatusCodes.Status413PayloadTooLarge, "Payload too large", error.Detail, error.Code),
        BrokerErrorCode.Unavailable => new(StatusCodes.Status503ServiceUnavailable, "Service unavailable", error.Detail, error.Code),
        _ => new(StatusCodes.Status400BadRequest, "Bad request", error.Detail, error.Code),
    };
}
