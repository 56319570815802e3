import type { QueueFigures } from './queue-sampler.js';
import type { RunSummary } from './summary.js';

/** One measured run: which policy (or label) on which workload, at what load. */
export interface BenchRun {
  label: string;
  workload: string;
  load: string;
  summary: RunSummary;
  /** Each replica's engine queue (running + waiting) over the run, when the engines were sampled. */
  queues?: Record<string, QueueFigures>;
}

export function markdownTable(runs: BenchRun[]): string {
  const header = '| workload | policy | load | req/s | errors | TTFT p50 / p90 / p99 ms | ITL p50 / p99 ms | e2e p50 / p99 ms | output tok/s | prefix-cache hit | mean (peak) queue per replica |';
  const rule = '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|';
  const rows = runs.map((r) => {
    const s = r.summary;
    const queues = r.queues ? Object.values(r.queues).map((q) => `${q.mean} (${q.peak})`).join(' / ') : '';
    return `| ${r.workload} | ${r.label} | ${r.load} | ${s.requestsPerS} | ${s.errors} | ${s.ttftMs.p50} / ${s.ttftMs.p90} / ${s.ttftMs.p99} | ${s.interTokenMs.p50} / ${s.interTokenMs.p99} | ${s.e2eMs.p50} / ${s.e2eMs.p99} | ${s.outputTokensPerS} | ${(s.prefixCacheHitRate * 100).toFixed(1)}% | ${queues} |`;
  });
  return [header, rule, ...rows].join('\n');
}
