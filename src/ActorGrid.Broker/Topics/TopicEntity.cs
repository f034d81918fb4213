#nullable enable
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.Persistence;
using static ActorGrid.Broker.BrokerProtocol;

namespace ActorGrid.Broker.Topics;

/// <summary>
/// A topic's metadata (partition count, retention). Creating a topic first records its name in the topic
/// directory, then persists it, so every existing topic is listed (the directory may list a name whose creation
/// failed half-way; listings skip those). Deleting it persists the deletion first, so its partitions refuse it
/// before their logs are deleted.
/// </summary>
internal sealed class TopicEntity : ReceivePersistentActor, IWithTimers
{
    private static readonly TimeSpan RegisterTimeout = TimeSpan.FromSeconds(5);
    private readonly string _name;
    private readonly IActorRef _directory;
    private TopicState _state = TopicState.Empty;
    private (CreateTopic Command, IActorRef ReplyTo)? _creating;

    public TopicEntity(string name)
    {
        _name = name;
        _directory = ActorRegistry.For(Context.System).Get<TopicDirectoryRegion>();
        PersistenceId = $"broker/topic/{name}";

        Recover<TopicCreated>(e => _state = _state.Apply(e));
        Recover<TopicDeleted>(e => _state = _state.Apply(e));
        Ready();
    }

    /// <inheritdoc />
    public override string PersistenceId { get; }

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Props for the topic <paramref name="name"/>.</summary>
    public static Props PropsFor(string name) => Props.Create(() => new TopicEntity(name));

    private void Ready()
    {
        Command<CreateTopic>(command =>
        {
            var (created, reply) = _state.Decide(command, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            if (created is null)
            {
                Sender.Tell(reply);
                return;
            }

            _creating = (command, Sender);
            _directory.Tell(new RegisterTopic(_name));
            Timers.StartSingleTimer("register", RegistrationTimedOut.Instance, RegisterTimeout);
            BecomeStacked(Registering);
        });
        Command<DeleteTopic>(command =>
        {
            var (deleted, reply) = _state.Decide(command, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            if (deleted is null)
            {
                Sender.Tell(reply);
                return;
            }

            var replyTo = Sender;
            Persist(deleted, e =>
            {
                _state = _state.Apply(e);
                replyTo.Tell(reply);
            });
        });
        Command<GetTopic>(_ =>
        {
            Sender.Tell(new TopicInfoReply(_name, _state.Config));
            if (_state.Config is null)
            {
                Context.Parent.Tell(new Passivate(PoisonPill.Instance));
            }
        });
        Command<RegisterTopicResult>(_ => { });
        Command<RegistrationTimedOut>(_ => { });
        Command<StopEntity>(_ => Context.Stop(Self));
    }

    private void Registering()
    {
        Command<RegisterTopicResult>(_ =>
        {
            Timers.Cancel("register");
            var (command, replyTo) = _creating!.Value;
            _creating = null;
            var (created, reply) = _state.Decide(command, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            Persist(created!, e =>
            {
                _state = _state.Apply(e);
                replyTo.Tell(reply);
                UnbecomeStacked();
                Stash.UnstashAll();
            });
        });
        Command<RegistrationTimedOut>(_ =>
        {
            _creating?.ReplyTo.Tell(new BrokerError(BrokerErrorCode.Unavailable, "the topic directory did not answer; retry"));
            _creating = null;
            UnbecomeStacked();
            Stash.UnstashAll();
        });
        CommandAny(_ => Stash.Stash());
    }

    private sealed class RegistrationTimedOut
    {
        public static readonly RegistrationTimedOut Instance = new();
    }
}
