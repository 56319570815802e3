import type { Dispatcher } from 'undici';
import { isScrapable, type Backend } from './backend.js';
import { ENGINE_READING_LIFETIME_INTERVALS } from './engine-load.js';
import type { Fleet } from './fleet.js';
import { readText } from '../upstream/read-text.js';

/** An engine's metrics page larger than this is unreadable (vLLM's is tens of kilobytes). */
const METRICS_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Reads vLLM-named gauges (also SGLang's, which share the names without the prefix) from Prometheus
 * text, summed over label sets. A series with a sample that is not a finite, non-negative number
 * (`+Inf`, `NaN`, garbage) is unreadable: such a value would poison every load comparison.
 */
export function parseEngineMetrics(text: string): { running: number; waiting: number; kvUsage: number } | undefined {
  const read = (...names: string[]) => {
    for (const name of names) {
      let total: number | undefined;
      const pattern = new RegExp(`^${name.replace(/[:]/g, '\\:')}(?:\\{[^}\\n]*\\})?[ \\t]+(\\S+)`, 'gm');
      for (const match of text.matchAll(pattern)) {
        const value = Number(match[1]);
        if (!Number.isFinite(value) || value < 0) return undefined;
        total = (total ?? 0) + value;
      }
      if (total !== undefined) return total;
    }
    return undefined;
  };
  const running = read('vllm:num_requests_running', 'sglang:num_running_reqs');
  const waiting = read('vllm:num_requests_waiting', 'sglang:num_queue_reqs');
  if (running === undefined || waiting === undefined) return undefined;
  return { running, waiting, kvUsage: read('vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc', 'sglang:token_usage') ?? 0 };
}

/**
 * Scrapes each self-hosted backend's `/metrics` on an interval into `backend.engine`. A backend
 * without them (llama.cpp, Ollama) simply never has a fresh reading, and routing uses its own counts.
 * A failed or unreadable scrape leaves the last reading in place until it expires, a few intervals
 * later: one late answer does not flip routing, a dead or garbled endpoint soon stops steering it.
 */
export class EngineMetricsScraper {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fleet: Fleet,
    private readonly dispatcher: Dispatcher,
    private readonly intervalS: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.scrapeAll(), this.intervalS * 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  scrapeAll(): Promise<void> {
    return Promise.all(this.fleet.list().filter((b) => isScrapable(b) && b.healthy).map((b) => this.scrape(b))).then(() => undefined);
  }

  private async scrape(backend: Backend): Promise<void> {
    try {
      const response = await this.dispatcher.request({
        origin: backend.origin,
        path: `${backend.basePath}/metrics`,
        method: 'GET',
        headers: backend.apiKey ? { authorization: `Bearer ${backend.apiKey}` } : {},
        signal: AbortSignal.timeout(this.intervalS * 1000),
      });
      const text = await readText(response.body, METRICS_MAX_BYTES);
      const sample = response.statusCode === 200 ? parseEngineMetrics(text) : undefined;
      if (sample) backend.engine.update(sample, backend.inflight, performance.now(), ENGINE_READING_LIFETIME_INTERVALS * this.intervalS * 1000);
    } catch {
      // An unreachable backend keeps its last reading until it expires: routing then uses local counts.
    }
  }
}
