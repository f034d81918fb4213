#nullable enable
using System.Runtime.ExceptionServices;
using ActorGrid.Serialization;
using Akka.Actor;
using Akka.Event;

namespace ActorGrid.Grid;

/// <summary>
/// Answers at once the asks whose request was dropped before it reached its entity. When a shard's hand-off begins,
/// the region that hosts it drops the requests it held back for that shard (Akka.NET: "Dropping [n] buffered messages
/// to shard … during hand off to avoid re-ordering") and sends each to dead letters as a <see cref="Dropped"/> that
/// keeps its sender. Without an answer the asker waits out its ask timeout (a 503 after 5–10 s), although nothing of
/// the request was applied. Every node runs a responder that watches its dead letters: for a dropped grid request
/// asked from this node it fails the ask with <see cref="RequestDroppedException"/>; for one asked from another node
/// (a region forwards requests with their sender) it tells that node's responder (<see cref="RequestDropped"/>), which
/// fails the ask there. The exception is an <see cref="AskTimeoutException"/>, so every front door answers it as it
/// answers a timeout (503 with Retry-After, a retriable Kafka error, a RESP error) — only without the wait.
/// </summary>
public static class DroppedRequests
{
    /// <summary>The responder's name under <c>/user</c>, the same on every node.</summary>
    public const string ActorName = "actorgrid-dropped-requests";

    /// <summary>Starts this node's responder.</summary>
    public static void Start(ActorSystem system)
    {
        var responder = system.ActorOf(Props.Create(() => new Responder()), ActorName);
        system.EventStream.Subscribe(responder, typeof(AllDeadLetters));
    }

    /// <summary>
    /// Asks <paramref name="target"/> for a reply of any type, with a <see cref="Status.Failure"/> thrown as its cause,
    /// as a typed <c>Ask&lt;T&gt;</c> throws it (so a dropped request fails as a timeout there too).
    /// </summary>
    public static async Task<object> AskAnyAsync(this ICanTell target, object message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var reply = await target.Ask<object>(message, timeout, cancellationToken);
        if (reply is Status.Failure { Cause: { } cause })
        {
            ExceptionDispatchInfo.Throw(cause);
        }

        return reply;
    }

    /// <summary>Whether <paramref name="actor"/> is the temporary actor of an ask (<c>/temp/…</c>), on any node.</summary>
    private static bool IsAsk(IActorRef? actor) =>
        actor is not null && !actor.IsNobody() && actor.Path.Elements is ["temp", _, ..];

    private sealed class Responder : ReceiveActor
    {
        public Responder()
        {
            Receive<AllDeadLetters>(letter =>
            {
                var dropped = letter as Dropped ?? letter.Message as Dropped;
                if (dropped is { Message: IActorGridMessage } && IsAsk(dropped.Sender))
                {
                    Answer(dropped.Sender, dropped.Reason);
                }
            });
            Receive<RequestDropped>(relayed =>
            {
                // From a peer's responder: the asker is a temporary actor of this node (gone if its ask already ended).
                var asker = ((ExtendedActorSystem)Context.System).Provider.ResolveActorRef(relayed.AskerPath);
                if (IsLocal(asker) && IsAsk(asker))
                {
                    Fail(asker, relayed.Reason);
                }
            });
        }

        private void Answer(IActorRef asker, string reason)
        {
            if (IsLocal(asker))
            {
                Fail(asker, reason);
            }
            else
            {
                Context.ActorSelection(new RootActorPath(asker.Path.Address) / "user" / ActorName)
                    .Tell(new RequestDropped(asker.Path.ToSerializationFormat(), reason));
            }
        }

        private static bool IsLocal(IActorRef actor) => actor is IActorRefScope { IsLocal: true };

        private static void Fail(IActorRef asker, string reason) => asker.Tell(new Status.Failure(new RequestDroppedException(reason)));
    }
}

/// <summary>
/// A request was dropped before it reached its entity (a shard hand-off, mostly): nothing of it was applied. Retry;
/// the entity's new home answers. An <see cref="AskTimeoutException"/>, so it is handled wherever a timeout is.
/// </summary>
public sealed class RequestDroppedException(string reason)
    : AskTimeoutException($"the request was dropped before it reached its entity ({reason}); nothing of it was applied, retry");

/// <summary>From one node's <see cref="DroppedRequests"/> responder to the asker's node: fail that ask now.</summary>
/// <param name="AskerPath">The asking temporary actor's path, in serialization format.</param>
/// <param name="Reason">Why the request was dropped.</param>
public sealed record RequestDropped(string AskerPath, string Reason) : IActorGridMessage
{
    /// <summary>Manifest of <see cref="RequestDropped"/> (a wire type only, never persisted).</summary>
    public const string Manifest = "actorgrid.request-dropped.v1";
}
