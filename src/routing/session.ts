import type { Backend } from '../fleet/backend.js';
import { leastLoaded } from './load.js';
import { ChoosingPolicy, type RouteChoice, type RouteRequest } from './policy.js';
import { fnv1a, rendezvousScore } from './rendezvous.js';
import { sessionHint } from './session-hints.js';

/**
 * Sticky sessions by rendezvous hashing of a session key (the session header, else
 * `prompt_cache_key`, else `user`): when a replica leaves, only its own sessions move, unlike
 * modulo hashing which moves almost all. Requests without a key go to the least-loaded replica.
 */
export class SessionPolicy extends ChoosingPolicy {
  readonly name = 'session';
  private readonly nodeHashes = new Map<string, number>();
  private turn = 0;

  constructor(private readonly header: string) {
    super();
  }

  choose(candidates: readonly Backend[], request: RouteRequest): RouteChoice {
    const key = this.sessionKey(request);
    if (key === undefined) {
      const { backend, load } = leastLoaded(candidates, this.turn, performance.now());
      return { backend, reason: 'no-session-key', affinity: false, details: { load }, commit: () => void this.turn++ };
    }
    const keyHash = fnv1a(key);
    let best = candidates[0]!;
    let bestScore = -1;
    for (const candidate of candidates) {
      const score = rendezvousScore(keyHash, this.nodeHash(candidate.name));
      if (score > bestScore) {
        best = candidate;
        bestScore = score;
      }
    }
    return { backend: best, reason: 'session', affinity: true, details: { session_key: key } };
  }

  override forget(name: string): void {
    this.nodeHashes.delete(name);
  }

  private sessionKey(request: RouteRequest): string | undefined {
    const header = request.headers[this.header];
    const value = Array.isArray(header) ? header[0] : header;
    return value || sessionHint(request.body);
  }

  private nodeHash(name: string): number {
    let hash = this.nodeHashes.get(name);
    if (hash === undefined) this.nodeHashes.set(name, (hash = fnv1a(name)));
    return hash;
  }
}
