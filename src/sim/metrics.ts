import type { Engine } from './engine.js';

/** The engine's state under vLLM's metric names, in the Prometheus text format, so routers read it as from vLLM. */
export function engineMetricsText(engine: Engine, model: string): string {
  const label = `{model_name="${model.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"}`;
  const { counters } = engine;
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, value: number) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}${label} ${value}`);
  };
  metric('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', engine.numRunning);
  metric('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', engine.numWaiting);
  metric('vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', engine.kvUsage);
  metric('vllm:gpu_cache_usage_perc', 'gauge', 'GPU KV-cache usage (older name). 1 means 100 percent usage.', engine.kvUsage);
  metric('vllm:prefix_cache_queries_total', 'counter', 'Prefix cache queries, in terms of number of queried tokens.', counters.prefixQueries);
  metric('vllm:prefix_cache_hits_total', 'counter', 'Prefix cache hits, in terms of number of cached tokens.', counters.prefixHits);
  metric('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', counters.promptTokens);
  metric('vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.', counters.generationTokens);
  return `${lines.join('\n')}\n`;
}
