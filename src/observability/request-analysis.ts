import { percentile } from '../fleet/latency-window.js';
import type { RequestLogEntry } from '../store/request-log.js';

/** Summary of a slice of the request log for one model and target (or a total). */
export interface RequestSummary {
  model: string;
  target: string;
  requests: number;
  errors: number;
  errorRate: number;
  latencyP50Ms: number | null;
  latencyP90Ms: number | null;
  latencyP99Ms: number | null;
  ttftP50Ms: number | null;
  ttftP99Ms: number | null;
  promptTokens: number;
  completionTokens: number;
  /** Null when no row in the group has a cost (prices unknown). */
  cost: number | null;
}

export const isError = (status: number) => status >= 400;


function summarize(model: string, target: string, rows: readonly RequestLogEntry[]): RequestSummary {
  const latencies = rows.map((r) => r.latencyMs).sort((a, b) => a - b);
  const ttfts = rows.flatMap((r) => (r.ttftMs === null ? [] : [r.ttftMs])).sort((a, b) => a - b);
  const errors = rows.filter((r) => isError(r.status)).length;
  const costs = rows.flatMap((r) => (r.cost === null ? [] : [r.cost]));
  return {
    model,
    target,
    requests: rows.length,
    errors,
    errorRate: rows.length === 0 ? 0 : errors / rows.length,
    latencyP50Ms: percentile(latencies, 50),
    latencyP90Ms: percentile(latencies, 90),
    latencyP99Ms: percentile(latencies, 99),
    ttftP50Ms: percentile(ttfts, 50),
    ttftP99Ms: percentile(ttfts, 99),
    promptTokens: rows.reduce((sum, r) => sum + (r.promptTokens ?? 0), 0),
    completionTokens: rows.reduce((sum, r) => sum + (r.completionTokens ?? 0), 0),
    cost: costs.length === 0 ? null : costs.reduce((a, b) => a + b, 0),
  };
}

/** One summary per (model, target), sorted by model then target, followed by the total. */
export function analyzeRequests(rows: readonly RequestLogEntry[]): { groups: RequestSummary[]; total: RequestSummary } {
  const groups = new Map<string, { model: string; target: string; rows: RequestLogEntry[] }>();
  for (const row of rows) {
    const target = row.target ?? '-';
    const key = `${row.model}\0${target}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { model: row.model, target, rows: [] }));
    group.rows.push(row);
  }
  const summaries = [...groups.values()]
    .map((g) => summarize(g.model, g.target, g.rows))
    .sort((a, b) => a.model.localeCompare(b.model) || a.target.localeCompare(b.target));
  return { groups: summaries, total: summarize('TOTAL', '', rows) };
}
