import { setTimeout as sleep } from 'node:timers/promises';

export interface PaceOptions {
  ttftMs: number;
  tokensPerS: number;
  maxConcurrency: number;
}

/**
 * Admits at most `maxConcurrency` generations at once (the rest wait in FIFO order) and spaces
 * their tokens: `ttftMs` before the first, then `1000 / tokensPerS` ms apart.
 */
export class Pacer {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly options: PaceOptions) {}

  get queued(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  async acquire(signal: AbortSignal): Promise<void> {
    if (this.running < this.options.maxConcurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const admit = () => {
        signal.removeEventListener('abort', cancel);
        resolve();
      };
      const cancel = () => {
        this.waiting.splice(this.waiting.indexOf(admit), 1);
        reject(signal.reason);
      };
      this.waiting.push(admit);
      signal.addEventListener('abort', cancel, { once: true });
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  firstToken(signal: AbortSignal): Promise<void> {
    return sleep(this.options.ttftMs, undefined, { signal });
  }

  nextToken(signal: AbortSignal): Promise<void> {
    return sleep(1000 / this.options.tokensPerS, undefined, { signal });
  }
}
