// ActorGrid dashboard: polls this node's JSON endpoints once a second and redraws. No dependencies.
"use strict";
const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

// The API lives where the page does: at the root, or under the prefix MapActorGrid was given.
const base = location.pathname.replace(/dashboard\/?$/, "");

// On a node with a tokens file the page asks for a bearer token once and keeps it for this tab only
// (sessionStorage: gone when the tab closes, never sent anywhere but this node's API).
const tokenKey = "actorgrid.token";
let token = sessionStorage.getItem(tokenKey);

function askForToken(note) {
  token = null;
  sessionStorage.removeItem(tokenKey);
  $("#token-note").textContent = note;
  $("#token-form").hidden = false;
  $("#forget-token").hidden = true;
}

$("#token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = $("#token").value.trim();
  if (!value) return;
  token = value;
  sessionStorage.setItem(tokenKey, value);
  $("#token").value = "";
  $("#token-form").hidden = true;
  $("#forget-token").hidden = false;
});
$("#forget-token").addEventListener("click", () => askForToken("token forgotten"));
$("#forget-token").hidden = !token;

async function json(path) {
  try {
    const sent = token;
    const response = await fetch(base + path, { cache: "no-store", headers: sent ? { Authorization: `Bearer ${sent}` } : {} });
    // Only the token this request carried is wrong: another view may have replaced it meanwhile. Without a token the
    // form is already up (keep its note: it may say why the last one was refused).
    if (response.status === 401 && sent === token && (sent || $("#token-form").hidden)) {
      askForToken(sent ? "this node does not know that token" : "this node needs a token (read scope)");
    }
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

function renderMembers(cluster) {
  const body = $("#members tbody");
  if (!cluster) { body.innerHTML = '<tr><td colspan="4" class="muted">unavailable</td></tr>'; return; }
  $("#self").textContent = cluster.self;
  const unreachable = new Set(cluster.unreachable);
  $("#member-count").textContent = cluster.members.length;
  body.innerHTML = cluster.members.map((m) => {
    const reach = unreachable.has(m.address)
      ? '<span class="unreachable">unreachable</span>'
      : '<span class="reachable">reachable</span>';
    const self = m.address === cluster.self ? " (this node)" : "";
    const leader = m.address === cluster.leader ? " ★ leader" : "";
    return `<tr class="member" data-address="${esc(m.address)}" data-status="${esc(m.status)}" data-reachable="${!unreachable.has(m.address)}">` +
      `<td>${esc(m.address)}${self}${leader}</td><td class="status-${esc(m.status)}">${esc(m.status)}</td><td>${reach}</td>` +
      `<td>${esc(m.roles.join(", "))}</td></tr>`;
  }).join("");
}

// Green (idle) through yellow to red (the hottest shard of the region).
function heat(load, max) {
  if (!load || !max) return "#dfe6ee";
  const t = Math.min(1, load / max);
  return `hsl(${Math.round(120 - 120 * t)}, 75%, ${Math.round(55 - 10 * t)}%)`;
}

function renderShards(data) {
  const root = $("#shards");
  if (!data) { root.innerHTML = '<p class="muted">unavailable</p>'; return; }
  const cell = 18, gap = 3, label = 150;
  root.innerHTML = data.regions.filter((r) => r.shards.length > 0).map((region) => {
    const max = Math.max(0, ...region.shards.map((s) => s.load ?? 0));
    const byNode = new Map();
    for (const s of region.shards) {
      if (!byNode.has(s.node)) byNode.set(s.node, []);
      byNode.get(s.node).push(s);
    }
    const nodes = [...byNode.keys()].sort();
    const widest = Math.max(...nodes.map((n) => byNode.get(n).length));
    const height = nodes.length * (cell + gap);
    const rows = nodes.map((node, row) => {
      const y = row * (cell + gap);
      const cells = byNode.get(node).map((s, i) =>
        `<rect class="shard" data-shard="${esc(s.shardId)}" data-load="${s.load ?? 0}" x="${label + i * (cell + gap)}" y="${y}" width="${cell}" height="${cell}" rx="3" fill="${heat(s.load, max)}">` +
        `<title>shard ${esc(s.shardId)} on ${esc(node)}: ${s.entities} entities, ${(s.load ?? 0).toFixed(1)} ops/s</title></rect>`).join("");
      return `<text x="0" y="${y + cell - 5}" font-size="12">${esc(node.replace(/^.*@/, ""))} (${byNode.get(node).length})</text>${cells}`;
    }).join("");
    return `<div class="region" data-type="${esc(region.typeName)}"><h3>${esc(region.role)} · ${esc(region.typeName)} ` +
      `<span class="muted">${region.shards.length} shards, hottest ${max.toFixed(1)} ops/s</span></h3>` +
      `<svg width="${label + widest * (cell + gap)}" height="${height}" role="img">${rows}</svg></div>`;
  }).join("") || '<p class="muted">no shards allocated yet</p>';
}

function renderTopics(topics, groups) {
  const tbody = $("#topics tbody");
  tbody.innerHTML = topics
    ? topics.topics.flatMap((t) => t.partitions.map((p) =>
      `<tr class="partition" data-topic="${esc(t.name)}" data-partition="${p.partition}"><td>${esc(t.name)}</td><td>${p.partition}</td><td>${p.startOffset}</td><td class="end-offset">${p.endOffset}</td></tr>`)).join("")
    : '<tr><td colspan="4" class="muted">unavailable</td></tr>';
  const gbody = $("#groups tbody");
  gbody.innerHTML = groups
    ? groups.groups.flatMap((g) => g.offsets.map((o) =>
      `<tr class="group-lag" data-group="${esc(g.group)}" data-topic="${esc(o.topic)}" data-partition="${o.partition}" data-lag="${o.lag}">` +
      `<td>${esc(g.group)}</td><td>${esc(o.topic)}</td><td>${o.partition}</td><td>${o.committed ?? "–"}</td><td>${o.endOffset}</td>` +
      `<td class="${o.lag === 0 ? "lag-0" : "lag"}">${o.lag}</td></tr>`)).join("")
    : '<tr><td colspan="6" class="muted">unavailable</td></tr>';
}

async function renderJobs(list) {
  const root = $("#jobs");
  if (!list) { root.innerHTML = '<p class="muted">unavailable</p>'; return; }
  const jobs = await Promise.all(list.items.slice(0, 10).map((j) => json(`jobs/${encodeURIComponent(j.jobId)}`)));
  root.innerHTML = jobs.filter((j) => j).map((j) => {
    const map = j.progress.mapTasks, reduce = j.progress.reduceTasks;
    const total = map.total + reduce.total;
    const percent = j.state === "Completed" ? 100 : total === 0 ? 0 : Math.floor(100 * (map.completed + reduce.completed) / total);
    return `<div class="job ${esc(j.state)}" data-job="${esc(j.jobId)}" data-state="${esc(j.state)}" data-progress="${percent}">` +
      `<div>${esc(j.jobId)} · ${esc(j.type)} · <b>${esc(j.state)}</b> · map ${map.completed}/${map.total} · reduce ${reduce.completed}/${reduce.total} · <span class="percent">${percent} %</span></div>` +
      `<div class="bar"><div class="fill" style="width:${percent}%"></div></div></div>`;
  }).join("") || '<p class="muted">no jobs</p>';
}

// Each view polls its own endpoints: a slow answer (a region waiting for a crashed node) delays only its own view.
function poll(paths, render) {
  const tick = async () => {
    try {
      await render(...await Promise.all(paths.map(json)));
      $("#updated").textContent = "updated " + new Date().toLocaleTimeString();
    } finally {
      setTimeout(tick, 1000);
    }
  };
  tick();
}

poll(["cluster"], renderMembers);
poll(["cluster/shards"], renderShards);
poll(["topics", "groups"], renderTopics);
poll(["jobs"], renderJobs);
