#nullable enable
using System.Security.Claims;
using System.Text.Encodings.Web;
using ActorGrid.Http;
using ActorGrid.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ActorGrid.Hosting;

/// <summary>
/// <c>Authorization: Bearer &lt;token&gt;</c> against the node's <see cref="TokenStore"/> (SPEC §11). Without a tokens
/// file every caller is let in with full scopes (loopback development; protected mode refuses that elsewhere).
/// No or an unknown token: 401 with <c>WWW-Authenticate: Bearer</c>.
/// </summary>
public sealed class GridBearerAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, TokenStore tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The authorization policy every ActorGrid endpoint but <c>/health/*</c> requires.</summary>
    public const string PolicyName = "ActorGrid";

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? token = null;
        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            token = header["Bearer ".Length..].Trim();
        }
        else if (tokens.RequiresToken)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var principal = tokens.Authenticate(token);
        return Task.FromResult(principal is null
            ? AuthenticateResult.Fail("unknown bearer token")
            : AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new GridIdentity(principal)), Scheme.Name)));
    }

    /// <inheritdoc />
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        var detail = Request.Headers.Authorization.Count == 0
            ? "this node requires 'Authorization: Bearer <token>'"
            : "the bearer token is not one this node knows";
        return GridResults.Problem(StatusCodes.Status401Unauthorized, "Unauthorized", detail).ExecuteAsync(Context);
    }

    /// <inheritdoc />
    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        GridResults.Forbidden("this token's scopes do not cover the operation").ExecuteAsync(Context);
}
