#nullable enable
using System.Globalization;
using System.Reflection;
using System.Text;

namespace ActorGrid.Resp;

/// <summary>
/// Connection and server commands (SPEC §12): enough of HELLO, AUTH, CLIENT, COMMAND, INFO and CONFIG GET for
/// redis-cli, redis-benchmark and StackExchange.Redis to connect and work unmodified.
/// </summary>
internal static class ConnectionCommands
{
    /// <summary>The Redis version the front door answers as: the command set it implements is that of Redis 7.2.</summary>
    public const string RedisVersion = "7.2.0";

    private static readonly string Version = typeof(ConnectionCommands).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    // What CONFIG GET answers: the settings clients ask about, with the values that describe this front door.
    private static readonly (string Name, Func<RespFrontDoor, string> Value)[] Config =
    [
        ("appendonly", _ => "yes"),
        ("appendfsync", _ => "always"),
        ("save", _ => ""),
        ("databases", _ => "1"),
        ("maxmemory", _ => "0"),
        ("timeout", _ => "0"),
        ("cluster-enabled", _ => "no"),
        ("slave-read-only", _ => "yes"),
        ("replica-read-only", _ => "yes"),
        ("proto-max-bulk-len", d => d.Options.MaxBulkBytes.ToString(CultureInfo.InvariantCulture)),
        ("port", d => (d.EndPoint?.Port ?? d.Options.Port).ToString(CultureInfo.InvariantCulture)),
    ];

    public static void Register(List<RespCommand> commands)
    {
        Add(commands, "PING", -1, Ping);
        Add(commands, "ECHO", 2, (s, r) => Value(RespValue.Bulk(r.Bytes(1))));
        Add(commands, "HELLO", -1, Hello, CommandFlags.NoAuth);
        Add(commands, "AUTH", -2, Auth, CommandFlags.NoAuth);
        Add(commands, "SELECT", 2, (s, r) => Value(r.TryLong(1, out var db) && db == 0 ? RespValue.Ok : RespValue.Error("ERR DB index is out of range (ActorGrid has one database, 0)")));
        Add(commands, "CLIENT", -2, Client);
        Add(commands, "QUIT", -1, Quit, CommandFlags.NoAuth);
        Add(commands, "RESET", 1, Reset, CommandFlags.NoAuth);
        Add(commands, "COMMAND", -1, Command);
        Add(commands, "INFO", -1, Info);
        Add(commands, "CONFIG", -2, ConfigCommand);
        Add(commands, "TIME", 1, (s, r) =>
        {
            var us = s.Door.NowUnixMs() * 1000;
            return Value(RespValue.Array(RespValue.Bulk((us / 1_000_000).ToString(CultureInfo.InvariantCulture)), RespValue.Bulk((us % 1_000_000).ToString(CultureInfo.InvariantCulture))));
        });
    }

    private static void Add(List<RespCommand> commands, string name, int arity, RespHandler handler, CommandFlags flags = CommandFlags.None) =>
        commands.Add(new RespCommand(name, arity, CommandClass.Other, flags, 0, 0, 0, handler, Resource: null));

    private static ValueTask<RespValue> Value(RespValue value) => ValueTask.FromResult(value);

    private static ValueTask<RespValue> Ping(RespSession session, RespRequest request) => Value(request.Count switch
    {
        1 => RespValue.Simple("PONG"),
        2 => RespValue.Bulk(request.Bytes(1)),
        _ => RespValue.Error("ERR wrong number of arguments for 'ping' command"),
    });

    private static ValueTask<RespValue> Hello(RespSession session, RespRequest request)
    {
        var protocol = session.Protocol;
        var i = 1;
        if (request.Count > 1)
        {
            if (!request.TryLong(1, out var version))
            {
                return Value(RespValue.Error("ERR Protocol version is not an integer or out of range"));
            }

            if (version is not (2 or 3))
            {
                return Value(RespValue.Error("NOPROTO unsupported protocol version"));
            }

            protocol = (int)version;
            i = 2;
        }

        string? name = null;
        for (; i < request.Count; i++)
        {
            if (request.Is(i, "AUTH"u8) && i + 2 < request.Count)
            {
                if (Authenticate(session, request.Text(i + 2) ?? "") is { } refused)
                {
                    return Value(refused);
                }

                i += 2;
            }
            else if (request.Is(i, "SETNAME"u8) && i + 1 < request.Count)
            {
                name = request.Text(++i);
            }
            else
            {
                return Value(RespValue.Error($"ERR Syntax error in HELLO option '{request.Text(i)}'"));
            }
        }

        if (!session.IsAuthenticated)
        {
            return Value(RespValue.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
        }

        session.Protocol = protocol;
        session.Name = name ?? session.Name;
        return Value(RespValue.Map(
        [
            RespValue.Bulk("server"), RespValue.Bulk("redis"),
            RespValue.Bulk("version"), RespValue.Bulk(RedisVersion),
            RespValue.Bulk("proto"), RespValue.Integer(protocol),
            RespValue.Bulk("id"), RespValue.Integer(session.Id),
            RespValue.Bulk("mode"), RespValue.Bulk("standalone"),
            RespValue.Bulk("role"), RespValue.Bulk("master"),
            RespValue.Bulk("modules"), RespValue.EmptyArray,
        ]));
    }

    private static ValueTask<RespValue> Auth(RespSession session, RespRequest request)
    {
        if (request.Count > 3)
        {
            return Value(RespValue.Error("ERR syntax error"));
        }

        if (!session.Door.Tokens.RequiresToken)
        {
            return Value(RespValue.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
        }

        return Value(Authenticate(session, request.Text(request.Count - 1) ?? "") ?? RespValue.Ok);
    }

    private static RespValue? Authenticate(RespSession session, string token)
    {
        if (!session.Door.Tokens.RequiresToken)
        {
            return null;
        }

        // The user name is not checked: the token is the credential (SPEC §11).
        var principal = session.Door.Tokens.Authenticate(token);
        if (principal is null)
        {
            return RespValue.Error("WRONGPASS invalid username-password pair or user is disabled.");
        }

        session.Principal = principal;
        return null;
    }

    private static ValueTask<RespValue> Quit(RespSession session, RespRequest request)
    {
        session.Closing = true;
        return Value(RespValue.Ok);
    }

    private static ValueTask<RespValue> Reset(RespSession session, RespRequest request)
    {
        session.EndTransaction();
        session.Protocol = 2;
        session.Name = null;
        session.Principal = null;
        return Value(RespValue.Simple("RESET"));
    }

    private static ValueTask<RespValue> Client(RespSession session, RespRequest request)
    {
        if (request.Is(1, "ID"u8))
        {
            return Value(RespValue.Integer(session.Id));
        }

        if (request.Is(1, "SETNAME"u8) && request.Count == 3)
        {
            var name = request.Text(2);
            if (name is null || name.Any(c => c <= ' '))
            {
                return Value(RespValue.Error("ERR Client names cannot contain spaces, newlines or special characters."));
            }

            session.Name = name.Length == 0 ? null : name;
            return Value(RespValue.Ok);
        }

        if (request.Is(1, "GETNAME"u8))
        {
            return Value(RespValue.Bulk(session.Name));
        }

        if (request.Is(1, "SETINFO"u8) && request.Count == 4)
        {
            if (request.Is(2, "LIB-NAME"u8))
            {
                session.LibraryName = request.Text(3);
            }
            else if (request.Is(2, "LIB-VER"u8))
            {
                session.LibraryVersion = request.Text(3);
            }
            else
            {
                return Value(RespValue.Error($"ERR Unrecognized option '{request.Text(2)}'"));
            }

            return Value(RespValue.Ok);
        }

        if (request.Is(1, "LIST"u8))
        {
            var lines = new StringBuilder();
            foreach (var client in session.Door.Clients.OrderBy(c => c.Id))
            {
                lines.Append(Describe(client)).Append('\n');
            }

            return Value(RespValue.Verbatim(lines.ToString()));
        }

        if (request.Is(1, "INFO"u8))
        {
            return Value(RespValue.Verbatim(Describe(session) + "\n"));
        }

        return Value(RespValue.Error($"ERR unknown subcommand '{request.Text(1)}'. Try CLIENT HELP."));
    }

    private static string Describe(RespSession client) => string.Create(CultureInfo.InvariantCulture,
        $"id={client.Id} addr={client.Remote} name={client.Name} age={(Environment.TickCount64 - client.CreatedAtMs) / 1000} db=0 multi={(client.InMulti ? client.Queue.Count : -1)} resp={client.Protocol} lib-name={client.LibraryName} lib-ver={client.LibraryVersion} cmd={client.LastCommand?.ToLowerInvariant()}");

    private static ValueTask<RespValue> Command(RespSession session, RespRequest request)
    {
        var all = session.Door.Commands.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        if (request.Count == 1)
        {
            return Value(RespValue.Array([.. all.Select(Describe)]));
        }

        if (request.Is(1, "COUNT"u8))
        {
            return Value(RespValue.Integer(all.Count));
        }

        if (request.Is(1, "INFO"u8))
        {
            return Value(RespValue.Array([.. Enumerable.Range(2, request.Count - 2).Select(i =>
                session.Door.Find(request.Text(i) ?? "") is { } c ? Describe(c) : RespValue.NullArray)]));
        }

        if (request.Is(1, "LIST"u8))
        {
            return Value(RespValue.Array([.. all.Select(c => RespValue.Bulk(c.Name.ToLowerInvariant()))]));
        }

        if (request.Is(1, "DOCS"u8))
        {
            // No documentation to offer: redis-cli then shows no hints, which is fine.
            return Value(RespValue.Map([]));
        }

        return Value(RespValue.Error($"ERR unknown subcommand '{request.Text(1)}'. Try COMMAND HELP."));
    }

    private static RespValue Describe(RespCommand command)
    {
        var flags = new List<RespValue>();
        flags.Add(RespValue.Simple(command.Class == CommandClass.Write ? "write" : command.Class == CommandClass.Read ? "readonly" : "fast"));
        if ((command.Flags & CommandFlags.NoAuth) != 0)
        {
            flags.Add(RespValue.Simple("no_auth"));
        }

        if ((command.Flags & CommandFlags.Blocking) != 0)
        {
            flags.Add(RespValue.Simple("blocking"));
        }

        return RespValue.Array(
            RespValue.Bulk(command.Name.ToLowerInvariant()),
            RespValue.Integer(command.Arity),
            RespValue.Set([.. flags]),
            RespValue.Integer(command.FirstKey),
            RespValue.Integer(command.LastKey),
            RespValue.Integer(command.Step),
            RespValue.Set([]),
            RespValue.Set([]),
            RespValue.EmptyArray,
            RespValue.EmptyArray);
    }

    private static ValueTask<RespValue> Info(RespSession session, RespRequest request)
    {
        var door = session.Door;
        var wanted = Enumerable.Range(1, request.Count - 1).Select(i => (request.Text(i) ?? "").ToLowerInvariant()).ToHashSet();
        var everything = wanted.Count == 0 || wanted.Contains("all") || wanted.Contains("everything") || wanted.Contains("default");
        var text = new StringBuilder();
        void Section(string name, params (string Key, object Value)[] fields)
        {
            if (!everything && !wanted.Contains(name.ToLowerInvariant()))
            {
                return;
            }

            text.Append("# ").Append(name).Append("\r\n");
            foreach (var (key, value) in fields)
            {
                text.Append(key).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append("\r\n");
            }

            text.Append("\r\n");
        }

        Section("Server",
            ("redis_version", RedisVersion),
            ("redis_mode", "standalone"),
            ("actorgrid_version", Version),
            ("os", Environment.OSVersion.VersionString),
            ("arch_bits", Environment.Is64BitProcess ? 64 : 32),
            ("process_id", Environment.ProcessId),
            ("run_id", door.RunId),
            ("tcp_port", door.EndPoint?.Port ?? door.Options.Port),
            ("uptime_in_seconds", (Environment.TickCount64 - door.StartedAtMs) / 1000));
        Section("Clients", ("connected_clients", door.Clients.Count()));
        Section("Persistence", ("loading", 0), ("aof_enabled", 1), ("appendfsync", "always"));
        Section("Stats", ("total_connections_received", door.LastClientId));
        Section("Replication", ("role", "master"), ("connected_slaves", 0));
        Section("Cluster", ("cluster_enabled", 0));
        return Value(RespValue.Verbatim(text.ToString()));
    }

    private static ValueTask<RespValue> ConfigCommand(RespSession session, RespRequest request)
    {
        if (request.Is(1, "GET"u8) && request.Count >= 3)
        {
            var patterns = Enumerable.Range(2, request.Count - 2).Select(i => request.Text(i) ?? "").ToList();
            var found = Config.Where(c => patterns.Any(p => Glob.Matches(p, c.Name, ignoreCase: true)))
                .SelectMany(c => new[] { RespValue.Bulk(c.Name), RespValue.Bulk(c.Value(session.Door)) })
                .ToArray();
            return Value(RespValue.Map(found));
        }

        if (request.Is(1, "SET"u8) || request.Is(1, "RESETSTAT"u8) || request.Is(1, "REWRITE"u8))
        {
            return Value(RespValue.Error("ERR ActorGrid is configured through its ActorGrid settings, not CONFIG SET"));
        }

        return Value(RespValue.Error($"ERR unknown subcommand '{request.Text(1)}'. Try CONFIG HELP."));
    }
}
