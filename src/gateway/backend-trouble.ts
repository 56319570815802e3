import { isEjectable, type Backend } from '../fleet/backend.js';
import type { Fleet } from '../fleet/fleet.js';
import type { Cooldowns } from '../state/shared-state.js';
import { stoppedByDeadline, type RequestAbort } from './abort.js';

/** Answers that count towards ejecting a backend until its health probe passes, as no answer does (529: Anthropic's "overloaded"). */
export const EJECTING_STATUS: ReadonlySet<number> = new Set([502, 503, 504, 529]);

/** Answers that are the backend's trouble, as no answer is: rate limited (429) or failing (5xx). */
export const isTroubleStatus = (status: number): boolean => status === 429 || status >= 500;

/**
 * A 500 (or another 5xx that is not a gateway's or overload answer) may be the request's doing: a
 * prompt that makes every replica fail. It counts towards a cooldown only once the same request has
 * been answered with a success (elsewhere, or by the same target on a later try), so that one such
 * request, retried on every replica, cannot bench a fleet.
 */
const mayBeTheRequests = (status: number): boolean => status >= 500 && !EJECTING_STATUS.has(status);

/**
 * Counts one failed attempt against its backend, whether it failed before the answer (the
 * attempts) or while it was relayed (the Gateway): towards passive ejection when there was no
 * answer, a broken one or an ejecting status (any other is only recorded as an error), and towards
 * the backend's cooldown, except for a hosted provider: one backend for all its models, benching it
 * for one model's 429s would shut out every other model.
 * `status`: the answer's; undefined when there was none (connection failure, timeout) or it broke off.
 * Returns true when the cooldown count is left to the caller (`mayDefer`, and a status that may be
 * the request's doing): it counts only once the request is answered with a success.
 */
export function countBackendTrouble(fleet: Fleet, cooldowns: Cooldowns, backend: Backend, message: string, status: number | undefined, mayDefer: boolean): boolean {
  if (status === undefined || EJECTING_STATUS.has(status)) fleet.recordFailure(backend, message);
  else backend.recordError(message);
  if (!isEjectable(backend.kind)) return false;
  if (mayDefer && status !== undefined && mayBeTheRequests(status)) return true;
  void cooldowns.recordFailure(backend.name);
  return false;
}

/**
 * Whether the deadline cut a stream that was still sending (its last event, `lastEventAt` in
 * performance.now() time, less than `stalledAfterS` ago): a generation longer than
 * request_timeout_s, which says nothing against its target, unlike a stalled one.
 */
export const cutWhileSending = (abort: RequestAbort, lastEventAt: number, stalledAfterS: number): boolean =>
  stoppedByDeadline(abort) && performance.now() - lastEventAt < stalledAfterS * 1000;
