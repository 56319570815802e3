import { fetchFleet } from './request-source.js';
import { formatMs, formatPercent, formatTable, palette } from './table.js';

export interface StatusOptions {
  url: string;
  token?: string;
  color: boolean;
}

const secondsToMs = (s: number | null) => (s === null ? null : s * 1000);

/**
 * `switchyard status`: the fleet at a glance. Health lives in the running router's memory (its
 * probes), so this asks the router rather than the database.
 */
export async function statusCommand(options: StatusOptions): Promise<string> {
  const fleet = await fetchFleet(options.url, options.token);
  const c = palette(options.color);
  const rows = fleet.services.map((s) => [
    s.name,
    s.kind,
    // A benched target passes its probes but takes no traffic until its cooldown ends.
    !s.healthy ? c.red('unhealthy') : s.cooldown && s.cooldown.state !== 'ok' ? c.yellow(s.cooldown.state) : c.green('healthy'),
    s.models.join(','),
    String(s.in_flight),
    String(s.request_count),
    formatPercent(s.request_count === 0 ? 0 : s.error_count / s.request_count),
    formatMs(secondsToMs(s.p50_s)),
    formatMs(secondsToMs(s.p99_s)),
    formatMs(secondsToMs(s.ttft_p50_s)),
    s.last_check ? `${s.last_check.at}${s.last_check.ok ? '' : ' failed'}` : 'never',
  ]);
  const healthy = `${fleet.healthy_services}/${fleet.total_services} targets healthy`;
  const headline = fleet.healthy_services === fleet.total_services && fleet.total_services > 0 ? c.green(healthy) : c.red(healthy);
  const a = fleet.activity;
  const activity = `retries ${a.retries} · fallbacks ${a.fallbacks} · cache ${a.cacheHits} hit / ${a.cacheMisses} miss · rate-limited ${a.rateLimited}`;
  const headers = ['target', 'kind', 'health', 'models', 'in-flight', 'requests', 'errors', 'p50', 'p99', 'TTFT p50', 'last probe'];
  return `${c.bold(options.url)}  ${headline}\n\n${formatTable(headers, rows)}\n\n${c.dim(activity)}`;
}
