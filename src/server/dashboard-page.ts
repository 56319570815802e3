/**
 * The dashboard: one self-contained page (no build step, no external requests) that polls
 * `/ui/state` every second and draws sparklines as plain SVG.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard</title>
<link rel="icon" href="data:,">
<style>
  :root { --bg:#0f1419; --panel:#172029; --text:#d8dee4; --muted:#8b98a5; --ok:#3fb950; --bad:#f85149; --warn:#d29922; --line:#58a6ff; --border:#26323d; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:baseline; gap:16px; padding:14px 20px; border-bottom:1px solid var(--border); }
  h1 { margin:0; font-size:20px; }
  h2 .muted { text-transform:none; letter-spacing:0; font-weight:normal; }
  [title] { cursor:help; }
  h2 { font-size:15px; margin:18px 20px 8px; color:var(--muted); text-transform:uppercase; letter-spacing:.05em; }
  #updated, .muted { color:var(--muted); }
  .cards { display:flex; flex-wrap:wrap; gap:10px; margin:0 20px; }
  .card { background:var(--panel); border:1px solid var(--border); border-radius:6px; padding:8px 14px; min-width:120px; }
  .card b { display:block; font-size:20px; }
  table { border-collapse:collapse; margin:0 20px; width:calc(100% - 40px); background:var(--panel); }
  th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--border); white-space:nowrap; }
  th { color:var(--muted); font-weight:600; }
  td.num { text-align:right; font-variant-numeric:tabular-nums; }
  .health { font-weight:600; }
  .health.healthy { color:var(--ok); }
  .health.unhealthy { color:var(--bad); }
  .health.benched, .health.probing { color:var(--warn); }
  .status-error { color:var(--bad); }
  svg.spark { width:120px; height:28px; vertical-align:middle; }
  svg.spark path { fill:none; stroke:var(--line); stroke-width:1.5; stroke-linecap:round; }
  #error { color:var(--bad); margin:8px 20px; }
</style>
</head>
<body>
<header><h1>Switchyard</h1><span id="summary"></span><span id="updated"></span></header>
<div id="error"></div>
<h2>Activity <span class="muted" id="since"></span></h2>
<div class="cards" id="activity"></div>
<h2>Targets</h2>
<table id="targets">
  <thead><tr><th>target</th><th title="healthy: takes traffic; unhealthy: failed its probe, missed its heartbeats or failed too many requests in a row; benched / probing: sitting out a cooldown">health</th><th>models</th>
  <th title="requests on their way to or from this target now">in-flight</th>
  <th title="requests this target answered or failed per second over the last minute, retries and fallbacks included">req/s (1 min)</th>
  <th title="share of this target's requests that failed over the last minute (connection, timeout, 429, 5xx, broken stream; not an answer about the request, such as a prompt over the context window); – when it had none">errors (1 min)</th>
  <th title="latency of this target's last 1,024 answers, from sending it the request to the end of its answer">p50</th><th title="latency of this target's last 1,024 answers, from sending it the request to the end of its answer">p99</th><th title="time to first token of this target's last 1,024 streamed answers, from sending it the request">TTFT p50</th>
  <th title="requests per second, sampled every few seconds">req/s (15 min)</th><th title="median latency of the answers of each sample interval">p50 (15 min)</th><th title="time of the last health probe; passive: an Anthropic or Gemini service, never probed (a probe would be a paid generation), taken out by failed requests and let back in by the next health round; not probed: agents (heartbeats), hosted providers and registry entries">last probe</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Recent requests <span class="muted">from the request log (with Redis, every instance's)</span></h2>
<table id="requests">
  <thead><tr><th>time</th><th>request id</th><th>model</th><th>target</th><th>status</th><th>latency</th><th>TTFT</th><th>tokens</th><th>cache</th><th>routing decision</th></tr></thead>
  <tbody></tbody>
</table>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token");
const stateUrl = "/ui/state" + (token ? "?token=" + encodeURIComponent(token) : "");
const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const ms = (value) => (value === null || value === undefined ? "–" : value < 10 ? value.toFixed(1) + " ms" : Math.round(value) + " ms");
const pct = (value) => (value * 100).toFixed(1) + "%";

// Points keep their place in time; a gap (no answers in a sample) breaks the line rather than closing up.
function sparkline(values) {
  const known = (v) => v !== null && Number.isFinite(v);
  const max = Math.max(...values.filter(known), 1e-9);
  const step = values.length > 1 ? 120 / (values.length - 1) : 0;
  let path = "";
  for (let i = 0; i < values.length; i++) {
    if (!known(values[i])) continue;
    path += (i > 0 && known(values[i - 1]) ? "L" : "M") + (i * step).toFixed(1) + "," + (27 - (values[i] / max) * 25).toFixed(1);
    // A value between gaps (one interval with answers) is a dot: a lone move draws nothing.
    if (!known(values[i + 1]) && !(i > 0 && known(values[i - 1]))) path += "h0.01";
  }
  return '<svg class="spark" viewBox="0 0 120 28"><path d="' + path + '"/></svg>';
}

function renderActivity(activity, attempts) {
  const cards = [
    ["requests", activity.requests, "requests answered to clients, refused ones included (the sum of switchyard_requests_total)"],
    ["failed", activity.failed, "requests that failed for their client: a 5xx answer (the router's or a target's) or a stream that broke after it started"],
    ["upstream attempts", attempts, "requests sent to targets that ended in an answer or a failure (not those the client abandoned), retries and fallbacks included: the sum of the targets' request_count"],
    ["retries", activity.retries, "requests sent again to another replica before any byte reached the client"],
    ["fallbacks", activity.fallbacks, "moves to the next model of a fallback chain"],
    ["cache hits", activity.cacheHits, "answers served from the response cache"],
    ["cache misses", activity.cacheMisses, "cacheable requests the cache did not have"],
    ["rate-limited", activity.rateLimited, "requests refused by rate limits and budgets"],
  ];
  document.getElementById("activity").innerHTML = cards.map(([label, value, title]) => '<div class="card" title="' + esc(title) + '"><b>' + esc(value) + "</b>" + esc(label) + "</div>").join("");
}

// A benched target passes its probes but takes no traffic until its cooldown ends.
const healthOf = (t) => (!t.healthy ? "unhealthy" : t.cooldown && t.cooldown.state !== "ok" ? t.cooldown.state : "healthy");

function errorsCell(recent) {
  if (!recent || recent.error_rate === null) return '<td class="num" title="no requests ended on this target in the last minute">–</td>';
  return '<td class="num" title="' + recent.errors + " of " + recent.requests + " requests failed in the last " + recent.window_s + ' s">' + pct(recent.error_rate) + "</td>";
}

function lastProbe(t) {
  // Agents send heartbeats, paid APIs are checked passively (by their answers), hosted providers and registry entries not at all.
  if (t.health_check === "passive") return "passive (not probed)";
  if (t.health_check !== "probe") return "not probed";
  return t.last_check ? new Date(t.last_check.at).toLocaleTimeString() + (t.last_check.ok ? "" : " (failed)") : "never";
}

function renderTargets(targets) {
  document.querySelector("#targets tbody").innerHTML = targets.map((t) => {
    const health = healthOf(t);
    return '<tr data-target="' + esc(t.name) + '">' +
      "<td>" + esc(t.name) + ' <span class="muted">' + esc(t.kind) + "</span></td>" +
      '<td class="health ' + health + '">' + health + "</td>" +
      "<td>" + esc(t.models.join(", ")) + "</td>" +
      '<td class="num">' + t.in_flight + "</td>" +
      '<td class="num">' + (t.last_minute ? t.last_minute.requests_per_s.toFixed(2) : "–") + "</td>" +
      errorsCell(t.last_minute) +
      '<td class="num">' + ms(t.p50_s === null ? null : t.p50_s * 1000) + "</td>" +
      '<td class="num">' + ms(t.p99_s === null ? null : t.p99_s * 1000) + "</td>" +
      '<td class="num">' + ms(t.ttft_p50_s === null ? null : t.ttft_p50_s * 1000) + "</td>" +
      "<td>" + sparkline(t.history.map((s) => s.requestsPerS)) + "</td>" +
      "<td>" + sparkline(t.history.map((s) => s.p50Ms)) + "</td>" +
      '<td class="muted">' + esc(lastProbe(t)) + "</td></tr>";
  }).join("");
}

// Unknown (a stream without usage, an error) is not zero.
const tokens = (r) => (r.promptTokens === null && r.completionTokens === null ? "–" : (r.promptTokens ?? 0) + (r.completionTokens ?? 0));
const decision = (r) => (r.decision ?? "–") + (r.fallbacks > 0 ? " · " + r.fallbacks + (r.fallbacks === 1 ? " fallback" : " fallbacks") : "");

function renderRequests(rows) {
  document.querySelector("#requests tbody").innerHTML = rows.slice().reverse().map((r) =>
    "<tr><td>" + esc(new Date(r.ts).toLocaleTimeString()) + "</td><td>" + esc(r.requestId) + "</td><td>" + esc(r.model) + "</td><td>" + esc(r.target ?? "–") +
    '</td><td class="num' + (r.status >= 400 ? " status-error" : "") + '">' + r.status + '</td><td class="num">' + ms(r.latencyMs) + '</td><td class="num">' + ms(r.ttftMs) +
    '</td><td class="num">' + tokens(r) + "</td><td>" + esc(r.cacheStatus ?? "–") + "</td><td>" + esc(decision(r)) + "</td></tr>"
  ).join("");
}

async function refresh() {
  try {
    const response = await fetch(stateUrl, { cache: "no-store" });
    if (!response.ok) throw new Error("GET /ui/state answered " + response.status);
    const state = await response.json();
    const healthy = state.targets.filter((t) => healthOf(t) === "healthy").length;
    document.getElementById("summary").textContent = healthy + "/" + state.targets.length + " targets healthy";
    document.getElementById("updated").textContent = "updated " + new Date(state.generated_at).toLocaleTimeString();
    document.getElementById("since").textContent = "this router, since " + new Date(state.started_at).toLocaleString();
    renderActivity(state.activity, state.targets.reduce((sum, t) => sum + t.request_count, 0));
    renderTargets(state.targets);
    renderRequests(state.recent);
    document.getElementById("error").textContent = "";
  } catch (error) {
    document.getElementById("error").textContent = "Cannot reach the router: " + error.message;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
