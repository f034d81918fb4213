#nullable enable
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Topics;

/// <summary>A topic's metadata and the decision logic of its entity.</summary>
/// <param name="Config">The configuration of the topic (null: it does not exist).</param>
/// <param name="Deleted">The configuration of the topic last deleted under this name (until one is created again).</param>
internal sealed record TopicState(TopicConfig? Config, TopicConfig? Deleted = null)
{
    /// <summary>A topic that was never created.</summary>
    public static readonly TopicState Empty = new((TopicConfig?)null);

    /// <summary>
    /// Decides <paramref name="command"/>: the event to persist (only when the topic does not exist yet) and the
    /// reply (Created, AlreadyExists for an identical configuration, Conflict for a different one).
    /// </summary>
    public (TopicCreated? Event, CreateTopicResult Reply) Decide(CreateTopic command, long nowMs)
    {
        if (Config is null)
        {
            return (new TopicCreated(command.Config, nowMs), new CreateTopicResult(TopicCreateOutcome.Created, command.Config));
        }

        return Config == command.Config
            ? (null, new CreateTopicResult(TopicCreateOutcome.AlreadyExists, Config))
            : (null, new CreateTopicResult(TopicCreateOutcome.Conflict, Config));
    }

    /// <summary>
    /// Decides <paramref name="command"/>: a topic that exists is deleted; one deleted earlier answers with its old
    /// configuration (so a retried delete can finish removing its partitions) and nothing to persist.
    /// </summary>
    public (TopicDeleted? Event, DeleteTopicResult Reply) Decide(DeleteTopic command, long nowMs) =>
        Config is null ? (null, new DeleteTopicResult(Deleted, false)) : (new TopicDeleted(nowMs), new DeleteTopicResult(Config, true));

    /// <summary>The state after <paramref name="e"/>.</summary>
    public TopicState Apply(TopicCreated e) => new(e.Config);

    /// <summary>The state after <paramref name="e"/>.</summary>
    public TopicState Apply(TopicDeleted e) => new(null, Config);
}
