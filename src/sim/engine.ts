import type { Clock } from './clock.js';
import { PrefixCache } from './prefix-cache.js';

export interface EngineOptions {
  /** Fixed per-request latency before scheduling (tokenisation, network): the floor of time to first token. */
  ttftMs: number;
  /** Upper bound on decode speed: no step is shorter than 1000 / tokensPerS ms. */
  tokensPerS: number;
  /** Sequences in the running batch; the rest wait in FIFO order. */
  maxBatch: number;
  blockSize: number;
  /** KV cache capacity in blocks. */
  kvBlocks: number;
  /** Step time = alphaMs + betaPrefillMs·uncached prompt tokens + betaDecodeMs·decoding sequences + betaKvMs·context tokens/1000. */
  alphaMs: number;
  betaPrefillMs: number;
  betaDecodeMs: number;
  betaKvMs: number;
}

export interface SequenceEvents {
  /** Output token `index` is ready (the first comes at the end of the prefill step). */
  token(index: number): void;
  done(): void;
}

export interface SequenceInput {
  prompt: readonly string[];
  outputTokens: number;
  /** Tokens the conversation continues with once done (template + generated text), cached like vLLM caches generated blocks. */
  continuation: readonly string[];
}

export class PromptTooLongError extends Error {}

export class Sequence {
  state: 'arriving' | 'waiting' | 'running' | 'done' | 'cancelled' = 'arriving';
  cachedTokens = 0;
  generated = 0;
  prefilled = false;
  constructor(
    readonly input: SequenceInput,
    readonly hashes: readonly number[],
    readonly anonymousBlocks: number,
    readonly events: SequenceEvents,
  ) {}
}

export interface EngineCounters {
  promptTokens: number;
  generationTokens: number;
  prefixQueries: number;
  prefixHits: number;
  completed: number;
  steps: number;
}

/**
 * An iteration-level model of one GPU server with continuous batching: each step admits waiting
 * sequences while batch slots and KV blocks allow, runs one forward pass (prefill for the newly
 * admitted, one token for every decoding sequence) whose duration grows with uncached prompt
 * tokens, batch size and context length, then emits a token per running sequence.
 */
export class Engine {
  readonly cache: PrefixCache;
  readonly counters: EngineCounters = { promptTokens: 0, generationTokens: 0, prefixQueries: 0, prefixHits: 0, completed: 0, steps: 0 };
  private waiting: Sequence[] = [];
  private running: Sequence[] = [];
  private stepping = false;

  constructor(
    readonly options: EngineOptions,
    private readonly clock: Clock,
  ) {
    this.cache = new PrefixCache(options.blockSize, options.kvBlocks);
  }

  get numRunning(): number {
    return this.running.length;
  }

  get numWaiting(): number {
    return this.waiting.length;
  }

  /** Fraction of KV blocks held by running sequences, as vLLM's kv_cache_usage_perc. */
  get kvUsage(): number {
    return this.cache.usedBlocks / this.cache.capacity;
  }

  submit(input: SequenceInput, events: SequenceEvents): Sequence {
    const { blockSize } = this.options;
    const hashes = this.cache.blockHashes(input.prompt);
    const totalBlocks = Math.ceil((input.prompt.length + input.outputTokens) / blockSize);
    if (totalBlocks > this.cache.capacity) {
      throw new PromptTooLongError(`the request needs ${totalBlocks} KV blocks of ${blockSize} tokens but the cache holds ${this.cache.capacity}`);
    }
    const sequence = new Sequence(input, hashes, totalBlocks - hashes.length, events);
    const arrive = () => {
      if (sequence.state !== 'arriving') return;
      sequence.state = 'waiting';
      this.waiting.push(sequence);
      if (!this.stepping) this.step();
    };
    if (this.options.ttftMs > 0) this.clock.setTimer(this.options.ttftMs, arrive);
    else arrive();
    return sequence;
  }

  cancel(sequence: Sequence): void {
    if (sequence.state === 'waiting') this.waiting.splice(this.waiting.indexOf(sequence), 1);
    if (sequence.state === 'running') {
      this.running.splice(this.running.indexOf(sequence), 1);
      this.cache.release(sequence.hashes, sequence.anonymousBlocks);
    }
    if (sequence.state !== 'done') sequence.state = 'cancelled';
  }

  /** Drops evictable cached blocks and zeroes counters (between benchmark runs). */
  reset(): void {
    this.cache.clear();
    for (const key of Object.keys(this.counters) as Array<keyof EngineCounters>) this.counters[key] = 0;
  }

  /** Duration of one forward pass over this batch composition. */
  stepMs(uncachedPrefill: number, decoding: number, contextTokens: number): number {
    const o = this.options;
    const modelled = o.alphaMs + o.betaPrefillMs * uncachedPrefill + o.betaDecodeMs * decoding + (o.betaKvMs * contextTokens) / 1000;
    return Math.max(modelled, 1000 / o.tokensPerS);
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.running.length < this.options.maxBatch) {
      const next = this.waiting[0]!;
      const allocation = this.cache.allocate(next.hashes, next.anonymousBlocks);
      if (!allocation) break;
      this.waiting.shift();
      const promptLength = next.input.prompt.length;
      // The last prompt token is always computed, to produce the first output token.
      next.cachedTokens = Math.min(allocation.matched * this.options.blockSize, Math.max(0, promptLength - 1));
      next.state = 'running';
      this.counters.prefixQueries += promptLength;
      this.counters.prefixHits += next.cachedTokens;
      this.counters.promptTokens += promptLength;
      this.running.push(next);
    }
  }

  private step(): void {
    this.admit();
    if (this.running.length === 0) {
      this.stepping = false;
      return;
    }
    let prefill = 0;
    let decoding = 0;
    let context = 0;
    for (const sequence of this.running) {
      if (sequence.prefilled) decoding++;
      else prefill += sequence.input.prompt.length - sequence.cachedTokens;
      context += sequence.input.prompt.length + sequence.generated;
    }
    this.stepping = true;
    this.counters.steps++;
    const batch = this.running.slice();
    this.clock.setTimer(this.stepMs(prefill, decoding, context), () => this.finishStep(batch));
  }

  private finishStep(batch: Sequence[]): void {
    for (const sequence of batch) {
      if (sequence.state !== 'running') continue;
      sequence.prefilled = true;
      if (sequence.generated < sequence.input.outputTokens) {
        this.counters.generationTokens++;
        sequence.events.token(sequence.generated++);
      }
      if (sequence.generated >= sequence.input.outputTokens) this.finish(sequence);
    }
    this.step();
  }

  private finish(sequence: Sequence): void {
    this.running.splice(this.running.indexOf(sequence), 1);
    this.cache.release(sequence.hashes, sequence.anonymousBlocks);
    const whole = this.cache.blockHashes([...sequence.input.prompt, ...sequence.input.continuation]);
    this.cache.insertEvictable(whole.slice(sequence.hashes.length));
    sequence.state = 'done';
    this.counters.completed++;
    sequence.events.done();
  }
}
