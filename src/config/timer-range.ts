import type { z } from 'zod';

/**
 * Node's timers take at most 2^31 - 1 ms (24.8 days) and fire at once past that, so a
 * `request_timeout_s` meant as "never" would time every request out on arrival.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** A number of seconds or milliseconds (`unitMs`) that becomes a timer. */
export function timerRange(schema: z.ZodNumber, unitMs: 1 | 1000): z.ZodNumber {
  const max = Math.floor(TIMER_MAX_MS / unitMs);
  return schema.max(max, { error: `must be at most ${max} ${unitMs === 1000 ? 's' : 'ms'} (24.8 days: Node's timers go no further)` });
}
