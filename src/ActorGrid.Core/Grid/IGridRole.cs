#nullable enable
using ActorGrid.Http;
using ActorGrid.Serialization;
using Akka.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ActorGrid.Grid;

/// <summary>
/// A role the grid can host: its wire/persisted types, its shard regions and its HTTP endpoints.
/// The built-in roles (<c>kv</c>, <c>broker</c>, <c>mapreduce</c>) and user roles plug in the same way.
/// </summary>
public interface IGridRole
{
    /// <summary>The cluster role name, e.g. <c>kv</c>. Nodes configured with this role host its entities.</summary>
    string Name { get; }

    /// <summary>The sharding type names this role starts (as a region where hosted, as a proxy elsewhere).</summary>
    IReadOnlyList<string> ShardTypeNames { get; }

    /// <summary>Registers every wire and persisted type of the role under a stable manifest.</summary>
    void RegisterManifests(ManifestRegistry manifests);

    /// <summary>
    /// Registers the role's services (for example its implementation of a contract in <c>ActorGrid.Contracts</c>,
    /// through which other roles and embedding services use it). The node's <see cref="GridContext"/> and
    /// <see cref="Configuration.ActorGridOptions"/> are services too: resolve them in the factories, since options are
    /// bound and validated when the host starts, not when services are registered.
    /// </summary>
    void AddServices(IServiceCollection services) { }

    /// <summary>Starts the role's shard regions (or proxies) and actors.</summary>
    void Configure(AkkaConfigurationBuilder akka, GridContext context);

    /// <summary>Describes the request and response bodies of the role's endpoints for the OpenAPI document.</summary>
    void DescribeApi(HttpApiDescription api) { }

    /// <summary>Maps the role's HTTP endpoints (every node serves every role's API).</summary>
    void MapEndpoints(IEndpointRouteBuilder endpoints) { }
}
