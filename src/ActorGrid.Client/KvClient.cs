#nullable enable
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text;

namespace ActorGrid.Client;

/// <summary>The key-value store (<see cref="KvClient"/>).</summary>
public interface IKvClient
{
    Task<KvWriteResult> PutAsync(string key, ReadOnlyMemory<byte> value, KvPutOptions? options = null, CancellationToken cancellationToken = default);

    Task<KvWriteResult> PutAsync(string key, string value, KvPutOptions? options = null, CancellationToken cancellationToken = default);

    Task<KvValue?> GetAsync(string key, KvConsistency consistency = KvConsistency.Strong, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string key, long? ifVersion = null, CancellationToken cancellationToken = default);

    Task<KvPage> ScanAsync(string prefix = "", int? limit = null, string? after = null, CancellationToken cancellationToken = default);

    IAsyncEnumerable<KvItem> ScanAllAsync(string prefix = "", int pageSize = 100, CancellationToken cancellationToken = default);
}

/// <summary>
/// The key-value store: versioned keys with compare-and-set, create-only writes, TTL, prefix scans and
/// strong or replica reads. A failed precondition throws <see cref="ActorGridException"/> with status 412.
/// </summary>
public sealed class KvClient(HttpClient http) : IKvClient
{
    /// <summary>
    /// <c>PUT /kv/{key}</c>: writes <paramref name="value"/>; with <see cref="KvPutOptions.IfVersion"/> only if the key is
    /// at that version (compare-and-set), with <see cref="KvPutOptions.IfAbsent"/> only if it does not exist.
    /// Returns the new version once the write is durable.
    /// </summary>
    public async Task<KvWriteResult> PutAsync(string key, ReadOnlyMemory<byte> value, KvPutOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= KvPutOptions.None;
        var uri = KeyUri(key) + (options.Ttl is { } ttl ? "?ttl=" + ((long)Math.Ceiling(ttl.TotalSeconds)).ToString(CultureInfo.InvariantCulture) : "");
        using var request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = new ReadOnlyMemoryContent(value) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (options.IfVersion is { } version)
        {
            request.Headers.IfMatch.Add(ETag(version));
        }

        if (options.IfAbsent)
        {
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
        }

        AddIdempotencyKey(request, options.IdempotencyKey);
        using var response = await http.SendAsync(request, cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<KvWriteResult>(cancellationToken))!;
    }

    /// <summary>Writes a UTF-8 string value (see <see cref="PutAsync(string, ReadOnlyMemory{byte}, KvPutOptions?, CancellationToken)"/>).</summary>
    public Task<KvWriteResult> PutAsync(string key, string value, KvPutOptions? options = null, CancellationToken cancellationToken = default) =>
        PutAsync(key, Encoding.UTF8.GetBytes(value), options, cancellationToken);

    /// <summary>
    /// <c>GET /kv/{key}</c>: the value and its version, or null when the key is absent (never written, deleted or
    /// expired). <see cref="KvConsistency.Replica"/> reads this node's replica: faster and available while the
    /// owner moves, but possibly stale (<see cref="KvValue.Staleness"/>).
    /// </summary>
    public async Task<KvValue?> GetAsync(string key, KvConsistency consistency = KvConsistency.Strong, CancellationToken cancellationToken = default)
    {
        var uri = KeyUri(key) + (consistency == KvConsistency.Replica ? "?consistency=replica" : "");
        using var response = await http.GetAsync(uri, cancellationToken);
        var staleness = response.Headers.TryGetValues("X-ActorGrid-Staleness", out var values) ? values.FirstOrDefault() : null;
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        var version = ParseETag(response.Headers.ETag);
        return new KvValue(key, version, await response.Content.ReadAsByteArrayAsync(cancellationToken), staleness);
    }

    /// <summary><c>DELETE /kv/{key}</c>: true when deleted, false when the key did not exist; with <paramref name="ifVersion"/> only at that version.</summary>
    public async Task<bool> DeleteAsync(string key, long? ifVersion = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, KeyUri(key));
        if (ifVersion is { } version)
        {
            request.Headers.IfMatch.Add(ETag(version));
        }

        AddIdempotencyKey(request, null);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        return true;
    }

    /// <summary><c>GET /kv?prefix=&amp;limit=&amp;after=</c>: one page of live keys in ordinal order, across all partitions.</summary>
    public async Task<KvPage> ScanAsync(string prefix = "", int? limit = null, string? after = null, CancellationToken cancellationToken = default)
    {
        var query = new StringBuilder("kv?prefix=").Append(Uri.EscapeDataString(prefix));
        if (limit is { } l)
        {
            query.Append("&limit=").Append(l.ToString(CultureInfo.InvariantCulture));
        }

        if (after is not null)
        {
            query.Append("&after=").Append(Uri.EscapeDataString(after));
        }

        using var response = await http.GetAsync(query.ToString(), cancellationToken);
        await ActorGridException.ThrowIfFailedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<KvPage>(cancellationToken))!;
    }

    /// <summary>Every live key with <paramref name="prefix"/>, page by page.</summary>
    public async IAsyncEnumerable<KvItem> ScanAllAsync(string prefix = "", int pageSize = 100, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? after = null;
        do
        {
            var page = await ScanAsync(prefix, pageSize, after, cancellationToken);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            after = page.Next;
        }
        while (after is not null);
    }

    /// <summary>
    /// The request path of <paramref name="key"/>: every character but <c>/</c> percent-encoded. Keys with a <c>.</c> or
    /// <c>..</c> segment are refused, because HTTP stacks remove such segments from paths.
    /// </summary>
    public static string KeyUri(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var segments = key.Split('/');
        if (segments.Any(s => s is "." or ".."))
        {
            throw new ArgumentException("Keys with '.' or '..' path segments cannot be addressed over HTTP", nameof(key));
        }

        return "kv/" + string.Join("/", segments.Select(Uri.EscapeDataString));
    }

    // Every attempt of one call carries the same key, so the node answers a retry of a write that landed with the
    // original answer instead of applying it again.
    private static void AddIdempotencyKey(HttpRequestMessage request, string? idempotencyKey) =>
        request.Headers.TryAddWithoutValidation(Resilience.RetrySafety.IdempotencyKeyHeader, idempotencyKey ?? Guid.NewGuid().ToString("N"));

    private static EntityTagHeaderValue ETag(long version) => new("\"" + version.ToString(CultureInfo.InvariantCulture) + "\"");

    private static long ParseETag(EntityTagHeaderValue? etag) =>
        etag is not null && long.TryParse(etag.Tag.Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : 0;
}

/// <summary>Read consistency of <see cref="KvClient.GetAsync"/>.</summary>
public enum KvConsistency
{
    /// <summary>From the partition that owns the key: sees every acknowledged write (linearizable per key).</summary>
    Strong,

    /// <summary>From the receiving node's replica: may be stale; says how stale.</summary>
    Replica,
}

/// <summary>Conditions and expiry of a put.</summary>
/// <param name="IfVersion">Write only if the key is at this version (compare-and-set, <c>If-Match</c>).</param>
/// <param name="IfAbsent">Write only if the key does not exist (create-only, <c>If-None-Match: *</c>).</param>
/// <param name="Ttl">The key expires this long after the write (whole seconds, rounded up).</param>
/// <param name="IdempotencyKey">
/// The write's <c>Idempotency-Key</c> (1–255 visible ASCII characters); null: a new one per call. Pass your own to
/// retry a write yourself after the call failed: the node answers a retry of a write that landed with its original
/// answer (within <c>Kv:IdempotencyWindow</c>) and writes nothing.
/// </param>
public sealed record KvPutOptions(long? IfVersion = null, bool IfAbsent = false, TimeSpan? Ttl = null, string? IdempotencyKey = null)
{
    /// <summary>An unconditional put without expiry.</summary>
    public static readonly KvPutOptions None = new();
}

/// <summary>The answer to a put: the key and its new version.</summary>
public sealed record KvWriteResult(string Key, long Version);

/// <summary>A value read from the store.</summary>
/// <param name="Key">The key.</param>
/// <param name="Version">Its version (the ETag).</param>
/// <param name="Value">The value bytes.</param>
/// <param name="Staleness">For replica reads, the <c>X-ActorGrid-Staleness</c> header (e.g. <c>ms=12, events-behind=0</c>).</param>
public sealed record KvValue(string Key, long Version, byte[] Value, string? Staleness)
{
    /// <summary>The value as UTF-8 text.</summary>
    public string AsString() => Encoding.UTF8.GetString(Value);
}

/// <summary>One item of a scan.</summary>
public sealed record KvItem(string Key, long Version, byte[] Value)
{
    /// <summary>The value as UTF-8 text.</summary>
    public string AsString() => Encoding.UTF8.GetString(Value);
}

/// <summary>One page of a scan; <paramref name="Next"/> is the <c>after</c> cursor of the next page, null at the end.</summary>
public sealed record KvPage(IReadOnlyList<KvItem> Items, string? Next);
