#nullable enable
namespace ActorGrid.Resp;

/// <summary>Whether an operation reads or writes.</summary>
public enum RespAccess
{
    /// <summary>Reads data.</summary>
    Read,

    /// <summary>Changes data.</summary>
    Write,
}

/// <summary>
/// Checks the credentials of <c>AUTH &lt;user&gt; &lt;token&gt;</c> and <c>HELLO 3 AUTH &lt;user&gt; &lt;token&gt;</c> and what the
/// authenticated principal may touch (SPEC §11: the token is the password; the user name is not checked).
/// Resources are named as in the tokens file: <c>kv/&lt;key&gt;</c>, <c>topic/&lt;stream&gt;</c>, <c>group/&lt;group&gt;</c>.
/// </summary>
public interface IRespAuthenticator
{
    /// <summary>Whether connections must authenticate before anything but AUTH, HELLO, QUIT and RESET.</summary>
    bool IsRequired { get; }

    /// <summary>The principal for <paramref name="token"/>, or null when it is not valid.</summary>
    object? Authenticate(string user, string token);

    /// <summary>Whether <paramref name="principal"/> may do <paramref name="access"/> on <paramref name="resource"/>.</summary>
    bool Allows(object principal, RespAccess access, string resource);
}

/// <summary>No authentication: every connection may do everything (the default without a tokens file).</summary>
public sealed class OpenRespAccess : IRespAuthenticator
{
    /// <inheritdoc />
    public bool IsRequired => false;

    /// <inheritdoc />
    public object? Authenticate(string user, string token) => null;

    /// <inheritdoc />
    public bool Allows(object principal, RespAccess access, string resource) => true;
}
