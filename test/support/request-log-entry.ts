import type { RequestLogEntry } from '../../src/store/request-log.js';

const JAN_1 = Date.parse('2026-01-01T10:00:00Z');

/** A request-log row with plausible values, for seeding. */
export function entry(overrides: Partial<RequestLogEntry> = {}): RequestLogEntry {
  return {
    ts: JAN_1, requestId: 'r1', callerKey: null, route: 'chat', model: 'm1', target: 'a', status: 200, latencyMs: 100, ttftMs: 20,
    interTokenMs: 5, overheadMs: 0.4, promptTokens: 10, completionTokens: 5, cachedTokens: 0, cost: null, cacheStatus: null,
    retries: 0, fallbacks: 0, decision: 'least-outstanding: a of 2 healthy, attempt 1', ...overrides,
  };
}
