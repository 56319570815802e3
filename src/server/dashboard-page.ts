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
  svg.spark polyline { fill:none; stroke:var(--line); stroke-width:1.5; }
  #error { color:var(--bad); margin:8px 20px; }
</style>
</head>
<body>
<header><h1>Switchyard</h1><span id="summary"></span><span id="updated"></span></header>
<div id="error"></div>
<h2>Activity</h2>
<div class="cards" id="activity"></div>
<h2>Targets</h2>
<table id="targets">
  <thead><tr><th>target</th><th>health</th><th>models</th><th>in-flight</th><th>req/s</th><th>errors</th><th>p50</th><th>p99</th><th>TTFT p50</th><th>req/s (15 min)</th><th>p50 (15 min)</th><th>last probe</th></tr></thead>
  <tbody></tbody>
</table>
<h2>Recent requests</h2>
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

function sparkline(values) {
  const points = values.filter((v) => v !== null && Number.isFinite(v));
  if (points.length < 2) return '<svg class="spark" viewBox="0 0 120 28"></svg>';
  const max = Math.max(...points, 1e-9);
  const step = 120 / (points.length - 1);
  const coords = points.map((v, i) => (i * step).toFixed(1) + "," + (27 - (v / max) * 25).toFixed(1)).join(" ");
  return '<svg class="spark" viewBox="0 0 120 28"><polyline points="' + coords + '"/></svg>';
}

function renderActivity(activity, requests) {
  const cards = [["requests", requests], ["cache hits", activity.cacheHits], ["cache misses", activity.cacheMisses], ["rate-limited", activity.rateLimited], ["retries", activity.retries], ["fallbacks", activity.fallbacks]];
  document.getElementById("activity").innerHTML = cards.map(([label, value]) => '<div class="card"><b>' + esc(value) + "</b>" + esc(label) + "</div>").join("");
}

function renderTargets(targets) {
  document.querySelector("#targets tbody").innerHTML = targets.map((t) => {
    const last = t.history[t.history.length - 1];
    // A benched target passes its probes but takes no traffic until its cooldown ends.
    const health = !t.healthy ? "unhealthy" : t.cooldown && t.cooldown.state !== "ok" ? t.cooldown.state : "healthy";
    return '<tr data-target="' + esc(t.name) + '">' +
      "<td>" + esc(t.name) + ' <span class="muted">' + esc(t.kind) + "</span></td>" +
      '<td class="health ' + health + '">' + health + "</td>" +
      "<td>" + esc(t.models.join(", ")) + "</td>" +
      '<td class="num">' + t.in_flight + "</td>" +
      '<td class="num">' + (last ? last.requestsPerS.toFixed(2) : "0.00") + "</td>" +
      '<td class="num">' + pct(last ? last.errorRate : 0) + "</td>" +
      '<td class="num">' + ms(t.p50_s === null ? null : t.p50_s * 1000) + "</td>" +
      '<td class="num">' + ms(t.p99_s === null ? null : t.p99_s * 1000) + "</td>" +
      '<td class="num">' + ms(t.ttft_p50_s === null ? null : t.ttft_p50_s * 1000) + "</td>" +
      "<td>" + sparkline(t.history.map((s) => s.requestsPerS)) + "</td>" +
      "<td>" + sparkline(t.history.map((s) => s.p50Ms)) + "</td>" +
      '<td class="muted">' + esc(t.last_check ? new Date(t.last_check.at).toLocaleTimeString() + (t.last_check.ok ? "" : " (failed)") : "never") + "</td></tr>";
  }).join("");
}

function renderRequests(rows) {
  document.querySelector("#requests tbody").innerHTML = rows.slice().reverse().map((r) =>
    "<tr><td>" + esc(new Date(r.ts).toLocaleTimeString()) + "</td><td>" + esc(r.requestId) + "</td><td>" + esc(r.model) + "</td><td>" + esc(r.target ?? "–") +
    '</td><td class="num' + (r.status >= 400 ? " status-error" : "") + '">' + r.status + '</td><td class="num">' + ms(r.latencyMs) + '</td><td class="num">' + ms(r.ttftMs) +
    '</td><td class="num">' + ((r.promptTokens ?? 0) + (r.completionTokens ?? 0)) + "</td><td>" + esc(r.cacheStatus ?? "–") + "</td><td>" + esc(r.decision ?? "–") + "</td></tr>"
  ).join("");
}

async function refresh() {
  try {
    const response = await fetch(stateUrl, { cache: "no-store" });
    if (!response.ok) throw new Error("GET /ui/state answered " + response.status);
    const state = await response.json();
    const healthy = state.targets.filter((t) => t.healthy).length;
    document.getElementById("summary").textContent = healthy + "/" + state.targets.length + " targets healthy";
    document.getElementById("updated").textContent = "updated " + new Date(state.generated_at).toLocaleTimeString();
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
