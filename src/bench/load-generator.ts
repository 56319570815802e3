import { setMaxListeners } from 'node:events';
import { Agent } from 'undici';
import { summarize, type RunSummary, type Sample } from './summary.js';
import type { ChatMessage, Workload } from './workloads.js';

export type Arrivals = { kind: 'poisson'; ratePerS: number } | { kind: 'closed'; concurrency: number };

export interface LoadOptions {
  /** Base URL of an OpenAI-compatible server (without `/v1`). */
  url: string;
  model: string;
  arrivals: Arrivals;
  durationS: number;
  maxTokens: number;
  apiKey?: string;
  /** Stop waiting for stragglers this long after the last arrival. */
  drainS?: number;
  seed?: number;
}

/**
 * Drives a workload against an endpoint with streaming chat completions: open-loop Poisson arrivals
 * (requests keep coming whatever the latency, as real users do) or a closed loop of N clients.
 */
export async function runLoad(workload: Workload, options: LoadOptions): Promise<{ summary: RunSummary; samples: Sample[] }> {
  const agent = new Agent({ connections: 512, keepAliveTimeout: 30_000 });
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  const endAt = started + options.durationS * 1000;
  const drain = new AbortController();
  // Every request in flight listens on the one drain signal.
  setMaxListeners(0, drain.signal);
  const issue = (): Promise<void> | undefined => {
    const item = workload.next();
    if (!item) return undefined;
    const sending = send(agent, options, item.messages, drain.signal).then((sample) => {
      samples.push(sample);
      item.done(sample.ok ? sample.answer : '');
    });
    pending.add(sending);
    void sending.finally(() => pending.delete(sending));
    return sending;
  };

  if (options.arrivals.kind === 'poisson') {
    const mean = 1000 / options.arrivals.ratePerS;
    let random = options.seed ?? 7;
    let next = started;
    while (next < endAt) {
      // Exponential gaps from a small LCG so that runs are repeatable.
      random = (Math.imul(random, 1664525) + 1013904223) >>> 0;
      next += -Math.log(1 - random / 4294967296) * mean;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      issue();
    }
  } else {
    await Promise.all(
      Array.from({ length: options.arrivals.concurrency }, async () => {
        while (performance.now() < endAt) {
          const sending = issue();
          await (sending ?? new Promise((r) => setTimeout(r, 5)));
        }
      }),
    );
  }
  const drainTimer = setTimeout(() => drain.abort(), (options.drainS ?? 30) * 1000);
  while (pending.size > 0) await Promise.all(pending);
  clearTimeout(drainTimer);
  await agent.close();
  return { summary: summarize(samples, (performance.now() - started) / 1000), samples };
}

async function send(agent: Agent, options: LoadOptions, messages: ChatMessage[], signal: AbortSignal): Promise<Sample & { answer: string }> {
  const startedAt = performance.now();
  const sample: Sample & { answer: string } = { ok: false, ttftMs: 0, interTokenMs: [], e2eMs: 0, outputTokens: 0, promptTokens: 0, cachedTokens: 0, answer: '' };
  try {
    const url = new URL(`${options.url.replace(/\/+$/, '')}/v1/chat/completions`);
    const response = await agent.request({
      origin: url.origin,
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
      body: JSON.stringify({ model: options.model, messages, max_tokens: options.maxTokens, stream: true, stream_options: { include_usage: true } }),
      signal,
    });
    const target = response.headers['x-switchyard-target'];
    if (typeof target === 'string') sample.target = target;
    if (response.statusCode !== 200) {
      sample.error = `HTTP ${response.statusCode}: ${(await response.body.text()).slice(0, 200)}`;
      return sample;
    }
    let buffer = '';
    let last = 0;
    let finished = false;
    for await (const chunk of response.body) {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 2);
        if (!event.startsWith('data: ')) continue;
        const data = event.slice(6);
        if (data === '[DONE]') {
          finished = true;
          continue;
        }
        const parsed = JSON.parse(data) as { error?: { message: string }; choices?: Array<{ delta?: { content?: string } }>; usage?: { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } } };
        if (parsed.error) throw new Error(parsed.error.message);
        const content = parsed.choices?.[0]?.delta?.content;
        if (content) {
          const now = performance.now();
          if (sample.outputTokens === 0) sample.ttftMs = now - startedAt;
          else sample.interTokenMs.push(now - last);
          last = now;
          sample.outputTokens++;
          sample.answer += content;
        }
        if (parsed.usage) {
          sample.promptTokens = parsed.usage.prompt_tokens;
          sample.cachedTokens = parsed.usage.prompt_tokens_details?.cached_tokens ?? 0;
        }
      }
    }
    sample.ok = finished;
    if (!finished) sample.error = 'stream ended without [DONE]';
  } catch (error) {
    sample.error = (error as Error).message;
  }
  sample.e2eMs = performance.now() - startedAt;
  return sample;
}
