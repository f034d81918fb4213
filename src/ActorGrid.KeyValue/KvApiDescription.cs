#nullable enable
using ActorGrid.Http;

namespace ActorGrid.KeyValue;

/// <summary>The <c>/kv</c> endpoints' bodies for the OpenAPI document.</summary>
internal static class KvApiDescription
{
    private const string Bytes = "application/octet-stream";

    public static HttpApiDescription DescribeKv(this HttpApiDescription api) => api
        .Add("PUT", "/kv/{**key}", "Write a value (If-Match: compare-and-set; If-None-Match: * create only; ?ttl=seconds; Idempotency-Key)",
            typeof(KvEndpoints.WriteBody), request: typeof(byte[]), requestContentType: Bytes, problems: [400, 412, 413, 422])
        .Add("GET", "/kv/{**key}", "Read a value (?consistency=strong|replica); ETag is its version",
            typeof(byte[]), responseContentType: Bytes, problems: [400, 404])
        .Add("DELETE", "/kv/{**key}", "Delete a key (If-Match honoured; Idempotency-Key)", null, status: 204, problems: [400, 404, 412, 422])
        .Add("GET", "/kv", "Scan live keys by prefix in key order (?prefix=&limit=&after=)", typeof(KvEndpoints.ScanPageBody), problems: [400]);
}
