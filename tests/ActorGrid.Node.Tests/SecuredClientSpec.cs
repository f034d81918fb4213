using System.Net;
using ActorGrid.Cli;
using ActorGrid.Client;
using ActorGrid.KeyValue;
using ActorGrid.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.Node.Tests;

/// <summary>One node serving HTTPS with a certificate of a throwaway CA and a tokens file (SPEC §11).</summary>
public sealed class SecuredNodeFixture : IAsyncLifetime
{
    public const string Writer = "client-writer-6d2e8f1a3b";
    public const string Reader = "client-reader-0c4a7e9d5f";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"actorgrid-secured-client-{Guid.NewGuid():N}");
    private GridTestCluster? _cluster;

    /// <summary>The node's HTTPS address.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The PEM of the CA that signed the node's HTTPS certificate.</summary>
    public string CaPath { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var ca = TestCertificateAuthority.Create("client-spec", _folder);
        var issued = ca.Issue("node");
        CaPath = ca.CaCertificatePath;
        var tokens = Path.Combine(_folder, "tokens.txt");
        await File.WriteAllLinesAsync(tokens, [$"{Writer} write:kv/secured/", $"{Reader} read"]);
        _cluster = await GridTestCluster.StartAsync(1, grid => grid.WithKeyValue(), new GridTestClusterOptions
        {
            Configure = (_, o) => o with
            {
                Security = o.Security with
                {
                    TokensFile = tokens,
                    Https = new() { Certificate = issued.Certificate, PrivateKey = issued.PrivateKey },
                },
            },
        });
        // The kit listens on an http:// URL; Security:Https puts TLS on every endpoint.
        Address = new UriBuilder(_cluster[0].HttpAddress) { Scheme = Uri.UriSchemeHttps }.Uri;
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>
/// The .NET client (<c>AddActorGridClient</c>) and the CLI reach a secured node with the same options: a bearer token
/// on every call, and the cluster's CA trusted for HTTPS instead of the system store.
/// </summary>
public sealed class SecuredClientSpec(SecuredNodeFixture node) : IClassFixture<SecuredNodeFixture>
{
    [Fact]
    public async Task AddActorGridClient_sends_its_token_and_trusts_its_CA()
    {
        await using var writer = Provider(o => (o.Token, o.CaCertificatePath) = (SecuredNodeFixture.Writer, node.CaPath));
        var kv = writer.GetRequiredService<IKvClient>();
        var put = await kv.PutAsync("secured/a", "1", new KvPutOptions(IfAbsent: true));
        Assert.Equal(1, put.Version);
        Assert.Equal("1", (await kv.GetAsync("secured/a"))!.AsString());

        // The token's scope is write:kv/secured/: the node refuses a key outside it.
        var outside = await Assert.ThrowsAsync<ActorGridException>(() => kv.PutAsync("elsewhere/a", "1"));
        Assert.Equal(HttpStatusCode.Forbidden, outside.Status);

        await using var anonymous = Provider(o => o.CaCertificatePath = node.CaPath);
        var refused = await Assert.ThrowsAsync<ActorGridException>(() => anonymous.GetRequiredService<IKvClient>().GetAsync("secured/a"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);

        // Without the CA, the node's certificate chains to nothing the system trusts.
        await using var untrusting = Provider(o => o.Token = SecuredNodeFixture.Writer);
        var untrusted = await Assert.ThrowsAsync<HttpRequestException>(() => untrusting.GetRequiredService<IKvClient>().GetAsync("secured/a"));
        Assert.Equal(HttpRequestError.SecureConnectionError, untrusted.HttpRequestError);
    }

    [Fact]
    public async Task The_CLI_takes_the_token_from_the_flag_or_ACTORGRID_TOKEN_and_exits_6_without_one_that_covers_the_call()
    {
        var address = node.Address.ToString();
        var (written, stdout, stderr) = await CliSpec.RunAsync("kv", "put", "secured/cli", "v1", "--node", address, "--ca", node.CaPath, "--token", SecuredNodeFixture.Writer);
        Assert.True(written == 0, stderr);
        Assert.Contains("version 1", stdout, StringComparison.Ordinal);

        var before = Environment.GetEnvironmentVariable(GridCli.TokenEnvironmentVariable);
        Environment.SetEnvironmentVariable(GridCli.TokenEnvironmentVariable, SecuredNodeFixture.Reader);
        try
        {
            var (read, value, readErr) = await CliSpec.RunAsync("kv", "get", "secured/cli", "--node", address, "--ca", node.CaPath);
            Assert.True(read == 0, readErr);
            Assert.Equal("v1", value.Trim());

            // The reader may read but not write: 403, exit 6, one line.
            var (denied, _, deniedErr) = await CliSpec.RunAsync("kv", "put", "secured/cli", "v2", "--node", address, "--ca", node.CaPath);
            Assert.Equal(GridCli.Unauthorized, denied);
            Assert.StartsWith("error: 403", Assert.Single(deniedErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(GridCli.TokenEnvironmentVariable, before);
        }

        var (anonymous, _, anonymousErr) = await CliSpec.RunAsync("kv", "get", "secured/cli", "--node", address, "--ca", node.CaPath);
        Assert.Equal(GridCli.Unauthorized, anonymous);
        Assert.StartsWith("error: 401", anonymousErr, StringComparison.Ordinal);
        Assert.Equal(GridCli.Usage, (await CliSpec.RunAsync("kv", "get", "secured/cli", "--node", address, "--ca", node.CaPath + ".absent")).ExitCode);
    }

    private ServiceProvider Provider(Action<ActorGridClientOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddActorGridClient(o =>
        {
            o.Nodes = [node.Address];
            o.MaxRetryAttempts = 0;
            configure(o);
        });
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }
}
