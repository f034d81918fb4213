#nullable enable
using System.Diagnostics;
using ActorGrid.Grid;
using ActorGrid.Serialization;
using Akka.Actor;

namespace ActorGrid.Observability;

/// <summary>
/// A message to a sharded entity with the W3C trace context of the request that sent it. Front doors wrap what
/// they ask of an entity (<see cref="Wrap"/>); the envelope routes like its message, crosses remoting inside the
/// <see cref="ActorGridSerializer"/>, and the entity continues the trace (<see cref="Handle"/>) before it decides.
/// Never persisted.
/// </summary>
/// <param name="Message">The message for the entity.</param>
/// <param name="TraceParent">The W3C <c>traceparent</c> of the sending span.</param>
/// <param name="TraceState">The W3C <c>tracestate</c>, if any.</param>
public sealed record TracedMessage(IWithEntityId Message, string TraceParent, string? TraceState) : IActorGridMessage, IWithEntityId
{
    /// <inheritdoc />
    public string EntityId => Message.EntityId;

    /// <summary><paramref name="message"/> wrapped with the current span's context, or as is when no span is recorded.</summary>
    public static object Wrap(IWithEntityId message) =>
        Activity.Current is { Recorded: true } current
            ? new TracedMessage(message, current.Id!, current.TraceStateString)
            : message;

    /// <summary>
    /// Handles the wrapped message with <paramref name="handle"/> inside a span of <paramref name="entity"/>
    /// (<c>kv.partition</c>, ...) continuing the sender's trace; work started synchronously (a journal write) is its child.
    /// </summary>
    public void Handle(IActorContext context, string entity, string persistenceId, Action<object> handle)
    {
        ActivityContext.TryParse(TraceParent, TraceState, isRemote: true, out var parent);
        using var activity = GridTelemetry.Source.StartActivity($"{entity} {Message.GetType().Name}", ActivityKind.Server, parent);
        if (activity is not null)
        {
            activity.SetTag("actorgrid.entity", entity);
            activity.SetTag("actorgrid.persistence_id", persistenceId);
            activity.SetTag("actorgrid.node", Akka.Cluster.Cluster.Get(context.System).SelfAddress.ToString());
        }

        handle(Message);
    }
}
