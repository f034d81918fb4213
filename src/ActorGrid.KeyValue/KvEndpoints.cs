#nullable enable
using System.Buffers;
using System.Globalization;
using ActorGrid.Grid;
using ActorGrid.Http;
using ActorGrid.Security;
using ActorGrid.Observability;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using static ActorGrid.KeyValue.KvProtocol;
using Settings = ActorGrid.KeyValue.KvProtocol.Settings;

namespace ActorGrid.KeyValue;

/// <summary>
/// The KV part of the HTTP API (SPEC §5). Every node serves it: requests are asked of the owning partition
/// through the shard region (or of this node's replica for <c>consistency=replica</c>) with a timeout; no answer
/// in time is a 503 with <c>Retry-After</c>.
/// </summary>
public static class KvEndpoints
{
    /// <summary>Header of replica reads saying how stale the answer may be.</summary>
    public const string StalenessHeader = "X-ActorGrid-Staleness";

    /// <summary>Header of a write that a client may retry: a retry with the same key and request gets the original answer.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private const string RoutePrefix = "/kv/";

    /// <summary>Maps <c>PUT/GET/DELETE /kv/{**key}</c> and <c>GET /kv</c>.</summary>
    public static IEndpointRouteBuilder MapKvEndpoints(this IEndpointRouteBuilder endpoints, Settings settings)
    {
        endpoints.MapPut("/kv/{**key}", (HttpContext http, ActorSystem system) => PutAsync(http, system, settings));
        endpoints.MapGet("/kv/{**key}", (HttpContext http, ActorSystem system, KvStore store) => GetAsync(http, system, store, settings));
        endpoints.MapDelete("/kv/{**key}", (HttpContext http, ActorSystem system) => DeleteAsync(http, system, settings));
        endpoints.MapGet("/kv", (HttpContext http, ActorSystem system) => ScanAsync(http, system, settings));
        return endpoints;
    }

    private static async Task<IResult> PutAsync(HttpContext http, ActorSystem system, Settings settings)
    {
        var request = http.Request;
        var (key, keyError) = ReadKey(http);
        if (keyError is not null)
        {
            return GridResults.BadRequest(keyError);
        }

        if (http.Deny(GridAccess.Write, GridResource.Kv, key) is { } denied)
        {
            return denied;
        }

        if (KvHttpInput.ParsePrecondition(Header(request, "If-Match"), Header(request, "If-None-Match"), allowIfNoneMatch: true, out var precondition) is { } preconditionError)
        {
            return GridResults.BadRequest(preconditionError);
        }

        if (KvHttpInput.ParseTtl(Query(request, "ttl"), out var ttl) is { } ttlError)
        {
            return GridResults.BadRequest(ttlError);
        }

        if (ParseIdempotencyKey(request, out var idempotencyKey) is { } idempotencyError)
        {
            return GridResults.BadRequest(idempotencyError);
        }

        if (request.ContentLength > settings.MaxValueBytes)
        {
            return TooLarge(request.ContentLength.Value, settings);
        }

        var value = await ReadBodyAsync(http, settings.MaxValueBytes);
        if (value is null)
        {
            return TooLarge(null, settings);
        }

        var reply = await AskAsync(Region(system), new Put(KvKeys.EntityIdFor(key, settings.Partitions), key, value, precondition, ttl, idempotencyKey), settings, http.RequestAborted);
        return reply switch
        {
            WriteResult { Status: WriteStatus.Written } w => Written(http, key, w.Version),
            WriteResult w => Refused(w),
            _ => Unavailable(reply),
        };
    }

    private static async Task<IResult> GetAsync(HttpContext http, ActorSystem system, KvStore store, Settings settings)
    {
        var request = http.Request;
        var (key, keyError) = ReadKey(http);
        if (keyError is not null)
        {
            return GridResults.BadRequest(keyError);
        }

        if (http.Deny(GridAccess.Read, GridResource.Kv, key) is { } denied)
        {
            return denied;
        }

        if (KvHttpInput.ParseConsistency(Query(request, "consistency"), out var replica) is { } consistencyError)
        {
            return GridResults.BadRequest(consistencyError);
        }

        // A strong read of a partition hosted here is answered from its committed state, with no hop (KvStore.TryReadLocally).
        var reply = replica
            ? await AskAsync(ActorRegistry.For(system).Get<KvReplicaActor>(), new KvReplica.ReadReplica(KvKeys.EntityIdFor(key, settings.Partitions), key), settings, http.RequestAborted)
            : store.TryReadLocally(key, out var local) ? local : await AskAsync(Region(system), new Get(KvKeys.EntityIdFor(key, settings.Partitions), key), settings, http.RequestAborted);
        if (reply is not GetResult result)
        {
            return Unavailable(reply);
        }

        if (result.StalenessMs is { } staleness)
        {
            http.Response.Headers[StalenessHeader] = string.Create(CultureInfo.InvariantCulture, $"ms={staleness}, events-behind={result.EventsBehind ?? 0}");
        }

        if (!result.Found)
        {
            return GridResults.NotFound($"key '{key}' does not exist");
        }

        http.Response.Headers.ETag = ETag(result.Version);
        return Results.Bytes(result.Value!, "application/octet-stream");
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, ActorSystem system, Settings settings)
    {
        var request = http.Request;
        var (key, keyError) = ReadKey(http);
        if (keyError is not null)
        {
            return GridResults.BadRequest(keyError);
        }

        if (http.Deny(GridAccess.Write, GridResource.Kv, key) is { } denied)
        {
            return denied;
        }

        if (KvHttpInput.ParsePrecondition(Header(request, "If-Match"), Header(request, "If-None-Match"), allowIfNoneMatch: false, out var precondition) is { } preconditionError)
        {
            return GridResults.BadRequest(preconditionError);
        }

        if (ParseIdempotencyKey(request, out var idempotencyKey) is { } idempotencyError)
        {
            return GridResults.BadRequest(idempotencyError);
        }

        var reply = await AskAsync(Region(system), new Delete(KvKeys.EntityIdFor(key, settings.Partitions), key, precondition, idempotencyKey), settings, http.RequestAborted);
        return reply switch
        {
            WriteResult { Status: WriteStatus.Deleted } => Results.NoContent(),
            WriteResult w => Refused(w),
            _ => Unavailable(reply),
        };
    }

    private static async Task<IResult> ScanAsync(HttpContext http, ActorSystem system, Settings settings)
    {
        var request = http.Request;
        var prefix = Query(request, "prefix") ?? "";
        var after = Query(request, "after");
        var limitError = KvHttpInput.ParseLimit(Query(request, "limit"), out var limit);
        var error = KvKeys.ValidateBound(prefix, "prefix") ?? (after is null ? null : KvKeys.ValidateBound(after, "after")) ?? limitError;
        if (error is not null)
        {
            return GridResults.BadRequest(error);
        }

        // A scan reads every key under its prefix: the caller's scope must cover the whole prefix.
        if (http.Deny(GridAccess.Read, GridResource.Kv, prefix) is { } denied)
        {
            return denied;
        }

        var region = Region(system);
        var asks = Enumerable.Range(0, settings.Partitions)
            .Select(p => AskAsync(region, new Scan(KvKeys.EntityId(p), prefix, after, limit, settings.ChunkBytes), settings, http.RequestAborted))
            .ToList();
        var replies = await Task.WhenAll(asks);
        if (replies.FirstOrDefault(r => r is not ScanResult) is { } failed)
        {
            return Unavailable(failed);
        }

        var page = KvScanMerge.Merge(replies.Cast<ScanResult>(), limit, settings.ScanPageBytes);
        return Results.Ok(new ScanPageBody([.. page.Items.Select(e => new ScanItemBody(e.Key, e.Version, e.Value!))], page.Next));
    }

    private static async Task<object> AskAsync(IActorRef target, object message, Settings settings, CancellationToken cancellationToken)
    {
        try
        {
            // The request's span travels with the message to the partition that owns the key.
            return await target.AskAnyAsync(message is IWithEntityId addressed ? TracedMessage.Wrap(addressed) : message, settings.AskTimeout, cancellationToken);
        }
        catch (AskTimeoutException)
        {
            return AskTimedOut.Instance;
        }
    }

    private static IActorRef Region(ActorSystem system) => ActorRegistry.For(system).Get<KvPartitionRegion>();

    private static (string Key, string? Error) ReadKey(HttpContext http)
    {
        var raw = http.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var prefix = http.Request.PathBase.Value + RoutePrefix;
        if (raw is not null && raw.StartsWith(prefix, StringComparison.Ordinal))
        {
            var error = KvHttpInput.DecodeKey(raw, prefix, out var key);
            return (key, error);
        }

        // Absolute-form request targets (through some proxies): fall back to the routed (already decoded) value.
        var routed = http.GetRouteValue("key") as string ?? "";
        return (routed, KvKeys.Validate(routed));
    }

    private static async Task<byte[]?> ReadBodyAsync(HttpContext http, int maxBytes)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit && limit.MaxRequestBodySize < maxBytes + 1L)
        {
            limit.MaxRequestBodySize = maxBytes + 1L;
        }

        // Straight from the request's pipe into the value's own array: no staging buffer per request (a 64 KB one
        // was ~0.5 GB/s of garbage at 7 k puts/s).
        var body = http.Request.BodyReader;
        while (true)
        {
            var read = await body.ReadAsync(http.RequestAborted);
            if (read.Buffer.Length > maxBytes)
            {
                body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                return null;
            }

            if (read.IsCompleted)
            {
                var value = read.Buffer.ToArray();
                body.AdvanceTo(read.Buffer.End);
                return value;
            }

            body.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }

    private static IResult Written(HttpContext http, string key, long version)
    {
        http.Response.Headers.ETag = ETag(version);
        return Results.Ok(new WriteBody(key, version));
    }

    private static IResult Refused(WriteResult result) => result.Status switch
    {
        WriteStatus.PreconditionFailed => GridResults.PreconditionFailed(result.Error ?? "the precondition did not hold"),
        WriteStatus.NotFound => GridResults.NotFound(result.Error ?? "the key does not exist"),
        WriteStatus.TooLarge => GridResults.TooLarge(result.Error ?? "the value is too large"),
        WriteStatus.Unavailable => GridResults.Unavailable(result.Error ?? "the partition could not complete the write; retry"),
        WriteStatus.IdempotencyKeyReused => GridResults.Problem(StatusCodes.Status422UnprocessableEntity, "Idempotency key reused", result.Error ?? "the Idempotency-Key was used for a different request"),
        _ => GridResults.BadRequest(result.Error ?? "the request is invalid"),
    };

    private static IResult Unavailable(object reply) => reply switch
    {
        KvReplica.ReplicaUnavailable u => GridResults.Unavailable(u.Reason),
        Coordination.OwnershipLapsed => GridResults.Unavailable("the node owning this key's partition lost its lease (it is moving to another node); retry"),
        _ => GridResults.Unavailable("the partition owning this key did not answer in time (it may be moving to another node); retry"),
    };

    private static IResult TooLarge(long? length, Settings settings) =>
        GridResults.TooLarge(length is { } l
            ? $"the value is {l} bytes; at most {settings.MaxValueBytes} are allowed"
            : $"the value is larger than {settings.MaxValueBytes} bytes");

    private static string ETag(long version) => "\"" + version.ToString(CultureInfo.InvariantCulture) + "\"";

    private static string? Header(HttpRequest request, string name) =>
        request.Headers.TryGetValue(name, out var values) && values.Count > 0 ? string.Join(",", values.ToArray()) : null;

    private static string? ParseIdempotencyKey(HttpRequest request, out string? idempotencyKey) =>
        KvHttpInput.ParseIdempotencyKey(request.Headers.TryGetValue(IdempotencyKeyHeader, out var values) ? values.ToArray() : [], out idempotencyKey);

    private static string? Query(HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var values) && values.Count > 0 ? values[^1] : null;

    internal sealed record WriteBody(string Key, long Version);

    internal sealed record ScanItemBody(string Key, long Version, byte[] Value);

    internal sealed record ScanPageBody(IReadOnlyList<ScanItemBody> Items, string? Next);

    private sealed class AskTimedOut
    {
        public static readonly AskTimedOut Instance = new();
    }
}
