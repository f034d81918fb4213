#nullable enable
using Akka.Actor;
using ActorGrid.Broker.Gateway;
using ActorGrid.KeyValue;
using ActorGrid.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using static ActorGrid.KeyValue.KvProtocol;

namespace ActorGrid.Resp;

/// <summary>A queued command of a MULTI block: what it asks of the partition and how its reply is made.</summary>
internal sealed record QueuedCommand(RespCommand Command, KvPlan Plan);

/// <summary>
/// One client connection's state: protocol version, authentication, name, the MULTI queue and WATCHed versions.
/// Touched only by the connection's own loop (never concurrently).
/// </summary>
internal sealed class RespSession(RespFrontDoor door, long id, string? remote, CancellationToken closed)
{
    /// <summary>Cancelled when the client goes away (ends blocking reads).</summary>
    public CancellationToken Closed { get; } = closed;

    /// <summary>The front door's shared parts.</summary>
    public RespFrontDoor Door { get; } = door;

    public KvStore Kv => Door.Kv;

    public BrokerGateway Broker => Door.Broker;

    public long Id { get; } = id;

    public string? Remote { get; } = remote;

    public long CreatedAtMs { get; } = Environment.TickCount64;

    /// <summary>2 or 3 (HELLO 3).</summary>
    public int Protocol { get; set; } = 2;

    public string? Name { get; set; }

    public string? LibraryName { get; set; }

    public string? LibraryVersion { get; set; }

    /// <summary>The authenticated principal; null before AUTH (or when no tokens are configured).</summary>
    public GridPrincipal? Principal { get; set; }

    public bool IsAuthenticated => Principal is not null || !Door.Tokens.RequiresToken;

    /// <summary>Who the connection acts as.</summary>
    public GridPrincipal Caller => Principal ?? GridPrincipal.Unauthenticated;

    /// <summary>Refuses with NOPERM unless the caller may do <paramref name="access"/> on <paramref name="kind"/> <paramref name="name"/>.</summary>
    public void Require(GridAccess access, string kind, string name)
    {
        if (GridAuthorization.Authorize(Caller, access, kind, name) is { } denied)
        {
            throw new RespCommandException("NOPERM " + denied);
        }
    }

    /// <summary>Set by QUIT: close after this reply.</summary>
    public bool Closing { get; set; }

    public bool InMulti { get; set; }

    /// <summary>A command was refused while queuing: EXEC answers EXECABORT.</summary>
    public bool MultiDirty { get; set; }

    public List<QueuedCommand> Queue { get; } = [];

    /// <summary>WATCHed keys and the live version (0: absent) each had when watched.</summary>
    public Dictionary<string, long> Watches { get; } = new(StringComparer.Ordinal);

    public string? LastCommand { get; set; }

    /// <summary>Drops MULTI and WATCH state (EXEC, DISCARD, RESET).</summary>
    public void EndTransaction()
    {
        InMulti = false;
        MultiDirty = false;
        Queue.Clear();
        Watches.Clear();
    }

    /// <summary>Runs (or, inside MULTI, queues) one parsed request.</summary>
    public ValueTask<RespValue> DispatchAsync(RespRequest request)
    {
        if (request.Refusal is { } refusal)
        {
            return ValueTask.FromResult(refusal.Length == 0 ? RespValue.NoReply : Fail("ERR " + refusal));
        }

        var command = request.Command ??= Door.Find(request);
        if (command is null)
        {
            return ValueTask.FromResult(Fail(UnknownCommand(request)));
        }

        if (!command.Accepts(request.Count))
        {
            return ValueTask.FromResult(Fail($"ERR wrong number of arguments for '{command.Name.ToLowerInvariant()}' command"));
        }

        if (!IsAuthenticated && (command.Flags & CommandFlags.NoAuth) == 0)
        {
            return ValueTask.FromResult(Fail("NOAUTH Authentication required."));
        }

        if (Door.Tokens.RequiresToken && Denied(command, request) is { } denied)
        {
            return ValueTask.FromResult(Fail(denied));
        }

        if (InMulti && (command.Flags & CommandFlags.Transaction) == 0)
        {
            return ValueTask.FromResult(Enqueue(command, request));
        }

        try
        {
            var pending = command.Handler(this, request);
            return pending.IsCompletedSuccessfully ? pending : Guard(pending);
        }
        catch (Exception e)
        {
            return ValueTask.FromResult(Failure(e));
        }
    }

    /// <summary>The class that decides whether <paramref name="request"/> may overlap its neighbours.</summary>
    public CommandClass Classify(RespRequest request)
    {
        if (request.Refusal is not null || InMulti || !IsAuthenticated)
        {
            return CommandClass.Other;
        }

        return (request.Command ??= Door.Find(request))?.Class ?? CommandClass.Other;
    }

    /// <summary>The reply for a failure of the partition or broker behind a command.</summary>
    public RespValue Failure(Exception e) => e switch
    {
        AskTimeoutException or TaskCanceledException or OperationCanceledException =>
            RespValue.Error("TRYAGAIN the owner of this data did not answer in time (it may be moving to another node); retry"),
        BrokerRequestException { Status: StatusCodes.Status503ServiceUnavailable } b => RespValue.Error("TRYAGAIN " + b.Message),
        BrokerRequestException b => RespValue.Error("ERR " + b.Message),
        RespCommandException r => RespValue.Error(r.Message),
        _ => Unexpected(e),
    };

    private RespValue Unexpected(Exception e)
    {
        Door.Logger.LogError(e, "RESP command {Command} failed on connection {ConnectionId}", LastCommand, Id);
        return RespValue.Error("ERR internal error; see the node's log");
    }

    private async ValueTask<RespValue> Guard(ValueTask<RespValue> pending)
    {
        try
        {
            return await pending;
        }
        catch (Exception e)
        {
            return Failure(e);
        }
    }

    private RespValue Enqueue(RespCommand command, RespRequest request)
    {
        if (command.Planner is null)
        {
            MultiDirty = true;
            return Fail($"ERR '{command.Name.ToLowerInvariant()}' cannot run inside MULTI here: ActorGrid transactions hold key-value commands only");
        }

        var plan = command.Planner(this, request);
        if (plan.Error is { } error)
        {
            MultiDirty = true;
            return error;
        }

        Queue.Add(new QueuedCommand(command, plan));
        return RespValue.Queued;
    }

    private string? Denied(RespCommand command, RespRequest request)
    {
        if (command.FirstKey <= 0 || command.Resource is not { } resource)
        {
            return null;
        }

        var access = command.Class == CommandClass.Write ? GridAccess.Write : GridAccess.Read;
        var last = command.LastKey < 0 ? request.Count + command.LastKey : Math.Min(command.LastKey, request.Count - 1);
        for (var i = command.FirstKey; i <= last; i += Math.Max(1, command.Step))
        {
            if (GridAuthorization.Authorize(Caller, access, resource, request.Text(i) ?? "") is { } denied)
            {
                return "NOPERM " + denied;
            }
        }

        return null;
    }

    private static string UnknownCommand(RespRequest request)
    {
        var args = string.Concat(Enumerable.Range(1, Math.Min(request.Count - 1, 8)).Select(i => $"'{Truncate(request.Text(i) ?? "")}' "));
        return $"ERR unknown command '{Truncate(request.Text(0) ?? "")}', with args beginning with: {args}";
    }

    private static string Truncate(string text) => text.Length > 128 ? text[..128] : text;

    private RespValue Fail(string message)
    {
        if (InMulti)
        {
            MultiDirty = true;
        }

        return RespValue.Error(message);
    }
}

/// <summary>A command refused with a Redis error (<see cref="Exception.Message"/> starts with its code).</summary>
internal sealed class RespCommandException(string message) : Exception(message);

/// <summary>
/// The key-value ops a command asks of one or more partitions, and how their results become its reply.
/// <paramref name="Error"/> is set instead when the command is malformed.
/// </summary>
internal readonly record struct KvPlan(KvOp[] Ops, Func<ArraySegment<KvOpResult>, RespValue> Reply, RespValue? Error = null)
{
    public static KvPlan Fail(string message) => new([], _ => default, RespValue.Error(message));
}

/// <summary>Turns a key-value command into ops without running them (for MULTI and for direct execution).</summary>
internal delegate KvPlan RespPlanner(RespSession session, RespRequest request);
