import type { CacheLimits } from './memory-state.js';
import type { CacheWrite, Correction, LimitCharge } from './shared-state.js';

/** An admit's answer from Redis: `[0, 0, entry or null]` when admitted, `[refusing counter (1-based), ms left]`, or `[-1, 0]` over budget. */
export type AdmitReply = [number, number, (string | null)?];

type RunBatch = (keys: string[], args: Array<string | number>) => Promise<unknown[]>;

/** The cache's index in Redis (see BATCH): entry keys by expiry time, their sizes, and the sizes' total. */
const CACHE_INDEX_KEYS = ['cache-index', 'cache-sizes', 'cache-bytes'] as const;

interface Pending {
  /** Which of the batch's results is this operation's (none for a correction alone). */
  result: number | undefined;
  resolve(reply: unknown): void;
  reject(error: Error): void;
}

/**
 * Gathers the per-request operations (admits, cache stores, spend, token corrections) into calls of the
 * BATCH script, with at most one call in flight: what arrives while a call is out waits for its
 * reply and leaves with the next one (or, when the call fails, fails with it). Sending each
 * request's scripts alone cost the router a command object, a socket write and a reply parse
 * apiece, and Redis a script run apiece, which made them, not the requests, the router's largest
 * cost. So batches grow with the load by
 * themselves: when idle an operation leaves at the end of the current loop turn (`setImmediate`);
 * under load it waits at most one Redis round trip.
 *
 * Admits, cache stores and spend run in the order they were asked for. Token corrections are summed per
 * counter and applied at the end of their batch: they only give back (or take) tokens already
 * reserved, and a busy key's requests all correct the same two counters, so a batch of them costs
 * Redis two commands instead of two per request.
 */
export class RedisBatch {
  private keys: string[] = [];
  private args: Array<string | number>;
  private results = 0;
  private corrections = new Map<string, number>();
  private pending: Pending[] = [];
  private scheduled = false;
  private inFlight = false;

  constructor(
    private readonly windowMs: number,
    private readonly cacheLimits: CacheLimits,
    private readonly run: RunBatch,
  ) {
    this.args = [windowMs];
  }

  /** `budget`: the key's spend counter and its budget, in the counter's integer unit. */
  admit(charges: readonly LimitCharge[], cacheKey: string | undefined, budget?: { counter: string; limit: number }): Promise<AdmitReply> {
    if (budget) this.keys.push(budget.counter);
    for (const charge of charges) this.keys.push(charge.counter);
    if (cacheKey !== undefined) this.keys.push(cacheKey);
    this.args.push('A', charges.length, cacheKey === undefined ? 0 : 1, budget?.limit ?? 0);
    for (const charge of charges) this.args.push(charge.limit, charge.cost);
    return this.enqueue(this.results++) as Promise<AdmitReply>;
  }

  /** Adds `amount` to a spend counter, which starts at `initial` when it does not exist yet; resolves with the new total. */
  spend(counter: string, amount: number, initial: number): Promise<unknown> {
    this.keys.push(counter);
    this.args.push('P', amount, initial);
    return this.enqueue(this.results++);
  }

  settle(correction: Correction | undefined, write: CacheWrite | undefined): Promise<unknown> {
    if (correction) {
      const { counters, deltas } = correction;
      for (let i = 0; i < counters.length; i++) this.corrections.set(counters[i]!, (this.corrections.get(counters[i]!) ?? 0) + deltas[i]!);
    }
    if (!write) return this.enqueue(undefined);
    this.keys.push(write.key, ...CACHE_INDEX_KEYS);
    this.args.push('W', JSON.stringify(write.value), Math.round(write.ttlS * 1000), this.cacheLimits.maxEntries, this.cacheLimits.maxBytes);
    return this.enqueue(this.results++);
  }

  private enqueue(result: number | undefined): Promise<unknown> {
    const reply = new Promise<unknown>((resolve, reject) => this.pending.push({ result, resolve, reject }));
    this.schedule();
    return reply;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.pending.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    const { keys, args, pending } = this.take();
    this.scheduled = false;
    this.inFlight = true;
    this.run(keys, args).then(
      (replies) => {
        this.inFlight = false;
        this.schedule();
        for (const operation of pending) operation.resolve(operation.result === undefined ? undefined : replies[operation.result]);
      },
      (error: Error) => {
        this.inFlight = false;
        // What queued behind a call Redis failed (a timeout: it hangs) fails with it rather than
        // leaving in the next call, which would cost its callers a second command timeout before
        // they fell back on local state; their corrections go with them, applied locally.
        const behind = this.take().pending;
        for (const operation of [...pending, ...behind]) operation.reject(error);
      },
    );
  }

  /** The operations gathered so far, as one call's keys and arguments (corrections last); the next call starts empty. */
  private take(): { keys: string[]; args: Array<string | number>; pending: Pending[] } {
    const { keys, args, pending, corrections } = this;
    if (corrections.size > 0) {
      args.push('C', corrections.size);
      for (const [counter, delta] of corrections) {
        keys.push(counter);
        args.push(delta);
      }
    }
    this.keys = [];
    this.args = [this.windowMs];
    this.results = 0;
    this.corrections = new Map();
    this.pending = [];
    return { keys, args, pending };
  }
}
