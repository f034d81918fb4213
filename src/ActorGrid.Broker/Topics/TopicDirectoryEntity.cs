#nullable enable
using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Topics;

/// <summary>The names of all topics (one entity for the cluster), so topics can be listed.</summary>
internal sealed class TopicDirectoryEntity : ReceivePersistentActor
{
    private ImmutableSortedSet<string> _topics = ImmutableSortedSet.Create<string>(StringComparer.Ordinal);

    public TopicDirectoryEntity(int snapshotEvery)
    {
        PersistenceId = "broker/topic-directory";
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is TopicDirectorySnapshot snapshot)
            {
                _topics = ImmutableSortedSet.CreateRange(StringComparer.Ordinal, snapshot.Topics);
            }
        });
        Recover<TopicRegistered>(e => _topics = _topics.Add(e.Topic));
        Recover<TopicUnregistered>(e => _topics = _topics.Remove(e.Topic));

        Command<RegisterTopic>(command =>
        {
            if (_topics.Contains(command.Topic))
            {
                Sender.Tell(new RegisterTopicResult(command.Topic));
                return;
            }

            var replyTo = Sender;
            Persist(new TopicRegistered(command.Topic), e =>
            {
                _topics = _topics.Add(e.Topic);
                replyTo.Tell(new RegisterTopicResult(e.Topic));
                SnapshotByPolicy(snapshotEvery);
            });
        });
        Command<UnregisterTopic>(command =>
        {
            if (!_topics.Contains(command.Topic))
            {
                Sender.Tell(new UnregisterTopicResult(command.Topic));
                return;
            }

            var replyTo = Sender;
            Persist(new TopicUnregistered(command.Topic), e =>
            {
                _topics = _topics.Remove(e.Topic);
                replyTo.Tell(new UnregisterTopicResult(e.Topic));
                SnapshotByPolicy(snapshotEvery);
            });
        });
        Command<ListTopics>(_ => Sender.Tell(new TopicListReply([.. _topics])));
        Command<StopEntity>(_ => Context.Stop(Self));
        Command<SaveSnapshotSuccess>(_ => { });
        Command<SaveSnapshotFailure>(_ => { });
    }

    /// <inheritdoc />
    public override string PersistenceId { get; }

    private void SnapshotByPolicy(int snapshotEvery)
    {
        if (LastSequenceNr % snapshotEvery == 0)
        {
            SaveSnapshot(new TopicDirectorySnapshot([.. _topics]));
        }
    }

    /// <summary>Props of the directory.</summary>
    public static Props PropsFor(int snapshotEvery) => Props.Create(() => new TopicDirectoryEntity(snapshotEvery));
}
