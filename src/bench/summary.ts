import { percentile } from '../fleet/latency-window.js';
/** Latency distribution figures in milliseconds. */
export interface Distribution {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
}

export function distribution(valuesMs: number[]): Distribution {
  if (valuesMs.length === 0) return { p50: 0, p90: 0, p99: 0, mean: 0 };
  const sorted = valuesMs.slice().sort((a, b) => a - b);
  const at = (p: number) => percentile(sorted, p)!;
  const round = (v: number) => Math.round(v * 10) / 10;
  return { p50: round(at(50)), p90: round(at(90)), p99: round(at(99)), mean: round(sorted.reduce((s, v) => s + v, 0) / sorted.length) };
}

/** What one streamed request measured. */
export interface Sample {
  ok: boolean;
  error?: string;
  ttftMs: number;
  /** Gaps between consecutive content chunks. */
  interTokenMs: number[];
  e2eMs: number;
  outputTokens: number;
  promptTokens: number;
  cachedTokens: number;
  target?: string;
}

export interface RunSummary {
  requests: number;
  errors: number;
  durationS: number;
  ttftMs: Distribution;
  interTokenMs: Distribution;
  e2eMs: Distribution;
  outputTokensPerS: number;
  requestsPerS: number;
  /** Cached prompt tokens / prompt tokens, from the engines' own usage reports. */
  prefixCacheHitRate: number;
  /** Requests per target (from `x-switchyard-target`). */
  targets: Record<string, number>;
}

export function summarize(samples: Sample[], durationS: number): RunSummary {
  const ok = samples.filter((s) => s.ok);
  const prompt = ok.reduce((n, s) => n + s.promptTokens, 0);
  const targets: Record<string, number> = {};
  for (const s of ok) if (s.target) targets[s.target] = (targets[s.target] ?? 0) + 1;
  return {
    requests: samples.length,
    errors: samples.length - ok.length,
    durationS: Math.round(durationS * 100) / 100,
    ttftMs: distribution(ok.map((s) => s.ttftMs)),
    interTokenMs: distribution(ok.flatMap((s) => s.interTokenMs)),
    e2eMs: distribution(ok.map((s) => s.e2eMs)),
    outputTokensPerS: Math.round(ok.reduce((n, s) => n + s.outputTokens, 0) / durationS),
    requestsPerS: Math.round((ok.length / durationS) * 10) / 10,
    prefixCacheHitRate: prompt > 0 ? Math.round((ok.reduce((n, s) => n + s.cachedTokens, 0) / prompt) * 1000) / 1000 : 0,
    targets,
  };
}
