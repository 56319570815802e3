import type { CacheWrite, Correction, LimitCharge } from './shared-state.js';

/** An admit's answer from Redis: `[0, 0, entry or null]` when admitted, else `[refusing counter (1-based), ms left]`. */
export type AdmitReply = [number, number, (string | null)?];

type RunBatch = (keys: string[], args: Array<string | number>) => Promise<unknown[]>;

interface Pending {
  resolve(reply: unknown): void;
  reject(error: Error): void;
}

/**
 * Gathers the admits and settles of one event-loop turn into one call of the BATCH script. Under
 * load a turn handles many requests at once; sending each of their two scripts alone cost the
 * router a command object, a socket write and a reply parse apiece, and Redis a script run apiece,
 * which made those writes, not the requests, the router's largest cost. A request waits at most
 * until the end of the current turn (`setImmediate`) for its batch to leave.
 */
export class RedisBatch {
  private keys: string[] = [];
  private args: Array<string | number>;
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(
    private readonly windowMs: number,
    private readonly run: RunBatch,
  ) {
    this.args = [windowMs];
  }

  admit(charges: readonly LimitCharge[], cacheKey: string | undefined): Promise<AdmitReply> {
    for (const charge of charges) this.keys.push(charge.counter);
    if (cacheKey !== undefined) this.keys.push(cacheKey);
    this.args.push('A', charges.length, cacheKey === undefined ? 0 : 1);
    for (const charge of charges) this.args.push(charge.limit, charge.cost);
    return this.enqueue() as Promise<AdmitReply>;
  }

  settle(correction: Correction | undefined, write: CacheWrite | undefined): Promise<unknown> {
    const counters = correction?.counters ?? [];
    this.keys.push(...counters);
    this.args.push('S', correction?.delta ?? 0, counters.length, write ? 1 : 0);
    if (write) {
      this.keys.push(write.key);
      this.args.push(JSON.stringify(write.value), Math.round(write.ttlS * 1000));
    }
    return this.enqueue();
  }

  private enqueue(): Promise<unknown> {
    const reply = new Promise<unknown>((resolve, reject) => this.pending.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return reply;
  }

  private flush(): void {
    const { keys, args, pending } = this;
    this.keys = [];
    this.args = [this.windowMs];
    this.pending = [];
    this.scheduled = false;
    this.run(keys, args).then(
      (replies) => pending.forEach((operation, index) => operation.resolve(replies[index])),
      (error: Error) => pending.forEach((operation) => operation.reject(error)),
    );
  }
}
