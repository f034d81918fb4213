using ActorGrid.Configuration;
using ActorGrid.Security;

namespace ActorGrid.Core.Tests;

/// <summary>SPEC §11 tokens: the file format, scope levels and resource prefixes, and the one Authorize every door calls.</summary>
public sealed class TokenStoreTests
{
    private static readonly TokenStore Store = TokenStore.Parse(
    [
        "# comment and blank lines are ignored",
        "",
        "reader-0123456789abcdef read",
        "orders-0123456789abcdef write:kv/orders/, read:topic/clicks",
        "admin-0123456789abcdefg admin",
    ], "tokens");

    [Fact]
    public void Unknown_or_missing_tokens_authenticate_nobody_and_a_store_without_tokens_lets_everyone_in()
    {
        Assert.Null(Store.Authenticate(null));
        Assert.Null(Store.Authenticate("reader-0123456789abcdeX"));
        Assert.True(Store.RequiresToken);
        Assert.Same(GridPrincipal.Unauthenticated, TokenStore.Open.Authenticate(null));
        Assert.False(TokenStore.Open.RequiresToken);
    }

    [Fact]
    public void The_principal_id_is_stable_and_does_not_reveal_the_token()
    {
        var first = Store.Authenticate("reader-0123456789abcdef")!;
        Assert.Equal(first.Id, Store.Authenticate("reader-0123456789abcdef")!.Id);
        Assert.DoesNotContain("reader", first.Id, StringComparison.Ordinal);
        Assert.NotEqual(first.Id, Store.Authenticate("admin-0123456789abcdefg")!.Id);
    }

    [Theory]
    [InlineData("reader-0123456789abcdef", GridAccess.Read, "kv", "any/key", true)]
    [InlineData("reader-0123456789abcdef", GridAccess.Write, "kv", "any/key", false)]
    [InlineData("orders-0123456789abcdef", GridAccess.Write, "kv", "orders/42", true)]
    [InlineData("orders-0123456789abcdef", GridAccess.Read, "kv", "orders/42", true)]
    [InlineData("orders-0123456789abcdef", GridAccess.Write, "kv", "billing/42", false)]
    [InlineData("orders-0123456789abcdef", GridAccess.Read, "kv", "", false)]
    [InlineData("orders-0123456789abcdef", GridAccess.Write, "topic", "orders/x", false)]
    [InlineData("orders-0123456789abcdef", GridAccess.Read, "topic", "clicks", true)]
    [InlineData("orders-0123456789abcdef", GridAccess.Write, "topic", "clicks", false)]
    [InlineData("orders-0123456789abcdef", GridAccess.Admin, "kv", "orders/42", false)]
    [InlineData("admin-0123456789abcdefg", GridAccess.Admin, "topic", "t", true)]
    public void Scopes_cover_their_level_and_below_on_their_kind_and_prefix(string token, GridAccess access, string kind, string name, bool allowed)
    {
        var principal = Store.Authenticate(token)!;
        var reason = GridAuthorization.Authorize(principal, access, kind, name);
        Assert.Equal(allowed, reason is null);
        if (reason is not null)
        {
            Assert.Contains(new GridScope(access, kind, name).ToString(), reason, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("short read", "shorter than")]
    [InlineData("token-0123456789abcdef", "expected")]
    [InlineData("token-0123456789abcdef delete", "must start with read, write or admin")]
    [InlineData("token-0123456789abcdef write:keys/a", "resource kind 'keys'")]
    public void A_malformed_line_fails_naming_the_key_and_the_line(string line, string why)
    {
        var error = Assert.Throws<ActorGridConfigurationException>(() => TokenStore.Parse(["# first", line], "tokens.txt"));
        Assert.Contains("ActorGrid:Security:TokensFile tokens.txt line 2", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_token_twice_is_refused()
    {
        var error = Assert.Throws<ActorGridConfigurationException>(() => TokenStore.Parse(["t-0123456789abcdef read", "t-0123456789abcdef admin"], "f"));
        Assert.Contains("twice", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0.0.0.0", false, false, true)]
    [InlineData("10.1.2.3", true, false, true)]
    [InlineData("0.0.0.0", true, true, false)]
    [InlineData("127.0.0.1", false, false, false)]
    [InlineData("localhost", false, false, false)]
    [InlineData("::1", false, false, false)]
    public void Protected_mode_refuses_a_non_loopback_hostname_without_TLS_and_tokens(string hostname, bool tls, bool tokens, bool refused)
    {
        var options = new ActorGridOptions
        {
            Hostname = hostname,
            Security = new SecurityOptions
            {
                Tls = tls ? new TlsOptions { Certificate = "node.pem", CaCertificate = "ca.pem" } : null,
                TokensFile = tokens ? "tokens" : null,
            },
        };
        var errors = ActorGridOptionsValidator.Validate(options).Where(e => e.StartsWith("ActorGrid:Security:", StringComparison.Ordinal)).ToList();
        Assert.Equal(refused, errors.Count == 1);
        Assert.Empty(ActorGridOptionsValidator.Validate(options with { Security = options.Security with { Insecure = true } }));
    }
}
