#nullable enable
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Topics;

/// <summary>A topic's metadata and the decision logic of its entity.</summary>
internal sealed record TopicState(TopicConfig? Config)
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

    /// <summary>The state after <paramref name="e"/>.</summary>
    public TopicState Apply(TopicCreated e) => new(e.Config);
}
