#nullable enable
using ActorGrid.Security;

namespace ActorGrid.Resp;

/// <summary>How a command may overlap its neighbours in a pipeline.</summary>
internal enum CommandClass
{
    /// <summary>Reads data: runs concurrently with the reads next to it.</summary>
    Read,

    /// <summary>Writes data: runs concurrently with the writes next to it (a partition applies them in arrival order).</summary>
    Write,

    /// <summary>Everything else: runs alone, after the commands before it have answered.</summary>
    Other,
}

/// <summary>What a command is allowed to do.</summary>
[Flags]
internal enum CommandFlags
{
    None = 0,

    /// <summary>Allowed before AUTH (AUTH, HELLO, QUIT, RESET).</summary>
    NoAuth = 1,

    /// <summary>Transaction control: runs at once even inside MULTI.</summary>
    Transaction = 2,

    /// <summary>Can be queued inside MULTI (key-value commands).</summary>
    Queueable = 4,

    /// <summary>May block (XREAD BLOCK): shown in COMMAND.</summary>
    Blocking = 8,
}

/// <summary>Runs one command on a connection.</summary>
internal delegate ValueTask<RespValue> RespHandler(RespSession session, RespRequest request);

/// <summary>
/// A command of the front door. <paramref name="Arity"/> as Redis counts it: the number of arguments with the name,
/// negative for "at least". <paramref name="FirstKey"/>, <paramref name="LastKey"/>, <paramref name="Step"/>: where
/// its keys are, for COMMAND and for access checks on the resource kind <paramref name="Resource"/> (<c>kv</c>, <c>topic</c>).
/// </summary>
internal sealed record RespCommand(
    string Name,
    int Arity,
    CommandClass Class,
    CommandFlags Flags,
    int FirstKey,
    int LastKey,
    int Step,
    RespHandler Handler,
    RespPlanner? Planner = null,
    string? Resource = GridResource.Kv)
{
    /// <summary>Whether <paramref name="count"/> arguments fit the arity.</summary>
    public bool Accepts(int count) => Arity >= 0 ? count == Arity : count >= -Arity;
}
