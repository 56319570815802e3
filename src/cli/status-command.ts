import { fetchFleet, type FleetView } from './request-source.js';
import { formatMs, formatPercent, formatTable, palette } from './table.js';

export interface StatusOptions {
  url: string;
  token?: string;
  color: boolean;
  /** The router's answer itself, for programs, instead of the table made from it. */
  json: boolean;
}

const secondsToMs = (s: number | null) => (s === null ? null : s * 1000);

/**
 * `switchyard status`: the fleet at a glance. Health lives in the running router's memory (its
 * probes), so this asks the router rather than the database.
 */
export async function statusCommand(options: StatusOptions): Promise<string> {
  const fleet = await fetchFleet(options.url, options.token);
  if (options.json) return JSON.stringify(fleet, null, 2);
  const c = palette(options.color);
  // A benched target passes its probes but takes no traffic until its cooldown ends.
  const healthOf = (s: FleetView['services'][number]) => (!s.healthy ? 'unhealthy' : s.cooldown && s.cooldown.state !== 'ok' ? s.cooldown.state : 'healthy');
  const rows = fleet.services.map((s) => {
    const health = healthOf(s);
    const recent = s.last_minute;
    return [
      s.name,
      s.kind,
      health === 'healthy' ? c.green(health) : health === 'unhealthy' ? c.red(health) : c.yellow(health),
      s.models.join(','),
      String(s.in_flight),
      recent ? recent.requests_per_s.toFixed(2) : '–',
      recent && recent.error_rate !== null ? formatPercent(recent.error_rate) : '–',
      String(s.request_count),
      formatMs(secondsToMs(s.p50_s)),
      formatMs(secondsToMs(s.p99_s)),
      formatMs(secondsToMs(s.ttft_p50_s)),
      lastProbe(s),
    ];
  });
  const inService = fleet.services.filter((s) => healthOf(s) === 'healthy').length;
  const healthy = `${inService}/${fleet.services.length} targets healthy`;
  const headline = inService === fleet.services.length && inService > 0 ? c.green(healthy) : c.red(healthy);
  const a = fleet.activity;
  const attempts = fleet.services.reduce((sum, s) => sum + s.request_count, 0);
  const activity = `requests ${a.requests} · failed ${a.failed} · upstream attempts ${attempts} · retries ${a.retries} · fallbacks ${a.fallbacks} · cache ${a.cacheHits} hit / ${a.cacheMisses} miss · rate-limited ${a.rateLimited} (since the router started)`;
  const headers = ['target', 'kind', 'health', 'models', 'in-flight', 'req/s 1m', 'errors 1m', 'requests', 'p50', 'p99', 'TTFT p50', 'last probe'];
  const legend = "req/s, errors: each target's requests (retries included) over the last minute · requests: since start · p50, p99, TTFT: its last 1,024 answers";
  return `${c.bold(options.url)}  ${headline}\n\n${formatTable(headers, rows)}\n${c.dim(legend)}\n\n${c.dim(activity)}`;
}

/** The last probe, or why there is none: agents send heartbeats, paid APIs are checked passively (by their answers), hosted providers and registry entries not at all. */
function lastProbe(s: FleetView['services'][number]): string {
  if (s.health_check === 'passive') return 'passive (not probed)';
  if (s.health_check !== 'probe') return 'not probed';
  return s.last_check ? `${s.last_check.at}${s.last_check.ok ? '' : ' failed'}` : 'never';
}
