#nullable enable
namespace ActorGrid.Hosting;

/// <summary>
/// A small self-contained page that renders the node's OpenAPI document: every operation with its summary, request
/// body and responses, schemas expanded. No scripts or styles from elsewhere: nodes often run without internet access.
/// </summary>
internal static class ApiReferencePage
{
    public static string Html(string prefix) => Template.Replace("{{DOCUMENT}}", prefix.TrimEnd('/') + "/openapi/" + ActorGridWebApplicationExtensions.ApiDocumentName + ".json", StringComparison.Ordinal);

    private const string Template = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>ActorGrid HTTP API</title>
        <style>
          body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #222; }
          h1 { font-size: 1.4rem; } details { border: 1px solid #ddd; border-radius: 6px; margin: .4rem 0; padding: .3rem .7rem; }
          summary { cursor: pointer; } .m { display: inline-block; width: 4.5rem; font-weight: 600; } code, pre { font: 12px ui-monospace, monospace; }
          pre { background: #f6f6f6; padding: .5rem; overflow: auto; } .GET { color: #1a7f37; } .PUT { color: #9a6700; } .POST { color: #0969da; } .DELETE { color: #cf222e; }
        </style></head>
        <body><h1>ActorGrid HTTP API</h1><p>OpenAPI document: <a id="doc"></a></p><div id="ops">Loading…</div>
        <script>
        const url = "{{DOCUMENT}}";
        const doc = document.getElementById("doc"); doc.href = url; doc.textContent = url;
        const esc = s => String(s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
        fetch(url).then(r => r.json()).then(api => {
          const schemas = (api.components || {}).schemas || {};
          const expand = (s, depth) => {
            if (!s || depth > 6) return s;
            if (s.$ref) return expand(schemas[s.$ref.split("/").pop()], depth + 1);
            const out = { ...s };
            if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, expand(v, depth + 1)]));
            if (s.items) out.items = expand(s.items, depth + 1);
            return out;
          };
          const body = content => Object.entries(content || {}).map(([type, c]) =>
            `<div><code>${esc(type)}</code><pre>${esc(JSON.stringify(expand(c.schema, 0), null, 2))}</pre></div>`).join("");
          let html = "";
          for (const [path, item] of Object.entries(api.paths || {}))
            for (const [method, op] of Object.entries(item)) {
              const m = method.toUpperCase();
              html += `<details><summary><span class="m ${m}">${m}</span><code>${esc(path)}</code> — ${esc(op.summary || "")}</summary>`;
              if (op.requestBody) html += `<h4>Request</h4>${body(op.requestBody.content)}`;
              html += "<h4>Responses</h4>";
              for (const [status, r] of Object.entries(op.responses || {})) html += `<div><b>${esc(status)}</b> ${esc(r.description || "")}${body(r.content)}</div>`;
              html += "</details>";
            }
          document.getElementById("ops").innerHTML = html;
        }).catch(e => { document.getElementById("ops").textContent = "Could not load the document: " + e; });
        </script></body></html>
        """;
}
