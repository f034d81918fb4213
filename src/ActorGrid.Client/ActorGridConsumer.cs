#nullable enable
using System.Net;

namespace ActorGrid.Client;

/// <summary>Settings of an <see cref="ActorGridConsumer"/>.</summary>
public sealed class ActorGridConsumerOptions
{
    /// <summary>The consumer group.</summary>
    public string Group { get; set; } = "";

    /// <summary>The topics the member subscribes to.</summary>
    public IList<string> Topics { get; set; } = [];

    /// <summary>Most records per poll.</summary>
    public int MaxRecords { get; set; } = 100;

    /// <summary>How long a poll waits for records (it is also the member's heartbeat: keep it below the session timeout).</summary>
    public TimeSpan PollWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The member's session timeout; null: the node's default.</summary>
    public TimeSpan? SessionTimeout { get; set; }

    /// <summary>Called with the member's partitions after it joins and after every rebalance, before their records.</summary>
    public Func<IReadOnlyList<TopicPartition>, CancellationToken, Task>? OnPartitionsAssigned { get; set; }

    /// <summary>Called with the partitions the member lost in a rebalance (or holds when it leaves), after their last records were committed.</summary>
    public Func<IReadOnlyList<TopicPartition>, CancellationToken, Task>? OnPartitionsRevoked { get; set; }
}

/// <summary>
/// A consumer-group member's loop: join, poll, hand each record to the handler, commit the offsets after the handled
/// records (at-least-once: a crash redelivers what was handled but not committed), follow rebalances with the
/// assigned and revoked callbacks, rejoin when the group dropped the member, and leave when stopped.
/// </summary>
public sealed class ActorGridConsumer(IBrokerClient broker, ActorGridConsumerOptions options)
{
    /// <summary>The member id while the loop runs.</summary>
    public string? MemberId { get; private set; }

    /// <summary>The partitions the member holds now.</summary>
    public IReadOnlyList<TopicPartition> Assignments { get; private set; } = [];

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled (then leaves the group and returns).</summary>
    public async Task RunAsync(Func<GroupRecord, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(options.Group);
        try
        {
            await JoinAsync(cancellationToken);
            while (!cancellationToken.IsCancellationRequested)
            {
                GroupPoll poll;
                try
                {
                    poll = await broker.PollAsync(options.Group, MemberId!, options.MaxRecords, (int)options.PollWait.TotalMilliseconds, cancellationToken);
                }
                catch (ActorGridException e) when (e.Status == HttpStatusCode.NotFound)
                {
                    // The group dropped this member (session timeout): its partitions are gone; join again.
                    await RevokeAsync(Assignments, cancellationToken);
                    await JoinAsync(cancellationToken);
                    continue;
                }

                await FollowAsync(poll.Assignments, cancellationToken);
                var handled = new List<GroupRecord>(poll.Records.Count);
                try
                {
                    foreach (var record in poll.Records)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        await handle(record, cancellationToken);
                        handled.Add(record);
                    }
                }
                finally
                {
                    // What was handled is committed even when the loop is stopping, so a graceful stop redelivers nothing.
                    await CommitAsync(handled);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            if (MemberId is { } member)
            {
                await RevokeAsync(Assignments, CancellationToken.None);
                try
                {
                    await broker.LeaveGroupAsync(options.Group, member, CancellationToken.None);
                }
                catch (Exception e) when (e is ActorGridException or HttpRequestException or TaskCanceledException)
                {
                    // The session timeout removes a member that could not say goodbye.
                }

                MemberId = null;
            }
        }
    }

    private async Task CommitAsync(IReadOnlyList<GroupRecord> handled)
    {
        if (handled.Count == 0)
        {
            return;
        }

        try
        {
            await broker.CommitAsync(options.Group, MemberId!, handled, CancellationToken.None);
        }
        catch (ActorGridException e) when (e.Status is HttpStatusCode.Conflict or HttpStatusCode.NotFound)
        {
            // A rebalance moved partitions away meanwhile: their new owner starts at the last commit.
        }
    }

    private async Task JoinAsync(CancellationToken cancellationToken)
    {
        var sessionMs = options.SessionTimeout is { } s ? (int?)s.TotalMilliseconds : null;
        var membership = await broker.JoinGroupAsync(options.Group, options.Topics, sessionMs, cancellationToken: cancellationToken);
        MemberId = membership.MemberId;
        Assignments = [];
        await FollowAsync(membership.Assignments, cancellationToken);
    }

    private async Task FollowAsync(IReadOnlyList<TopicPartition> assignments, CancellationToken cancellationToken)
    {
        var revoked = Assignments.Except(assignments).ToList();
        var added = assignments.Except(Assignments).ToList();
        if (revoked.Count == 0 && added.Count == 0)
        {
            return;
        }

        await RevokeAsync(revoked, cancellationToken);
        Assignments = [.. assignments];
        if (options.OnPartitionsAssigned is { } assigned)
        {
            await assigned(Assignments, cancellationToken);
        }
    }

    private async Task RevokeAsync(IReadOnlyList<TopicPartition> revoked, CancellationToken cancellationToken)
    {
        if (revoked.Count > 0 && options.OnPartitionsRevoked is { } callback)
        {
            await callback(revoked, cancellationToken);
        }

        Assignments = [.. Assignments.Except(revoked)];
    }
}
