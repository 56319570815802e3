import type { RouteOutcome } from './policy.js';

/** Exponentially weighted moving average of time to first token per backend name. */
export class TtftAverage {
  private readonly averages = new Map<string, number>();

  constructor(private readonly smoothing = 0.2) {}

  /** Seconds, or undefined before the first streamed answer. */
  get(name: string): number | undefined {
    return this.averages.get(name);
  }

  record(name: string, outcome: RouteOutcome): void {
    if (!outcome.ok || outcome.ttftS === undefined) return;
    const previous = this.averages.get(name);
    this.averages.set(name, previous === undefined ? outcome.ttftS : previous + this.smoothing * (outcome.ttftS - previous));
  }

  forget(name: string): void {
    this.averages.delete(name);
  }
}
