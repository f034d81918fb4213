#nullable enable
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Net;
using ActorGrid.Broker.Gateway;
using ActorGrid.Configuration;
using ActorGrid.KeyValue;
using ActorGrid.Security;
using Microsoft.Extensions.Logging;

namespace ActorGrid.Resp;

/// <summary>
/// The Redis front door of one node: the command table and what connections share (the KV and broker gateways,
/// the tokens, SCAN cursors, stream consumers, connected clients). Thin: every command is an adapter over
/// <see cref="KvStore"/> or <see cref="BrokerGateway"/>.
/// </summary>
public sealed class RespFrontDoor
{
    private readonly FrozenDictionary<string, RespCommand> _commands;
    private readonly FrozenDictionary<string, RespCommand>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly ConcurrentDictionary<long, RespSession> _clients = new();
    private readonly TimeProvider _time;
    private long _lastClientId;

    /// <summary>Creates the front door over the node's gateways.</summary>
    public RespFrontDoor(KvStore kv, BrokerGateway broker, TokenStore tokens, RespOptions options, ILogger<RespFrontDoor> logger, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        Kv = kv;
        Broker = broker;
        Tokens = tokens;
        Options = options;
        Logger = logger;
        Limits = new RespLimits(options.MaxBulkBytes, options.MaxArguments, options.MaxInlineBytes, options.MaxPipelineDepth);
        Streams = new RespStreams(broker);
        Scans = new ScanCursors();
        var commands = new List<RespCommand>();
        ConnectionCommands.Register(commands);
        StringCommands.Register(commands);
        KeyspaceCommands.Register(commands);
        TransactionCommands.Register(commands);
        StreamCommands.Register(commands);
        _commands = commands.ToFrozenDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);
        _lookup = _commands.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    internal KvStore Kv { get; }

    internal BrokerGateway Broker { get; }

    /// <summary>The node's tokens (SPEC §11): AUTH checks them, and their scopes what each connection may touch.</summary>
    internal TokenStore Tokens { get; }

    internal RespOptions Options { get; }

    internal ILogger Logger { get; }

    internal RespLimits Limits { get; }

    internal RespStreams Streams { get; }

    internal ScanCursors Scans { get; }

    internal IEnumerable<RespCommand> Commands => _commands.Values;

    internal IEnumerable<RespSession> Clients => _clients.Values;

    /// <summary>Where the listener is bound (known once Kestrel started; port 0 asks the OS for one).</summary>
    public IPEndPoint? EndPoint => Listener?.Endpoint?.IPEndPoint;

    internal RespListener? Listener { get; set; }

    internal long NextClientId() => Interlocked.Increment(ref _lastClientId);

    internal long LastClientId => Interlocked.Read(ref _lastClientId);

    /// <summary>Identifies this front door's lifetime (INFO run_id).</summary>
    internal string RunId { get; } = Guid.NewGuid().ToString("N") + "00000000";

    internal long StartedAtMs { get; } = Environment.TickCount64;

    internal long NowUnixMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    internal void Connected(RespSession session) => _clients[session.Id] = session;

    internal void Disconnected(RespSession session) => _clients.TryRemove(session.Id, out _);

    internal RespCommand? Find(RespRequest request)
    {
        var name = request[0];
        if (name.Length is 0 or > 32)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[32];
        Span<char> chars = stackalloc char[32];
        name.CopyTo(bytes);
        var length = (int)name.Length;
        for (var i = 0; i < length; i++)
        {
            chars[i] = (char)bytes[i];
        }

        return _lookup.TryGetValue(chars[..length], out var command) ? command : null;
    }

    internal RespCommand? Find(string name) => _commands.GetValueOrDefault(name);
}
