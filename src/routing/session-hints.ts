import { hash } from 'node:crypto';

/** The client's own affinity hint: OpenAI's `prompt_cache_key`, else the `user` field. */
export function sessionHint(body: Record<string, unknown>): string | undefined {
  const { prompt_cache_key: cacheKey, user } = body;
  if (typeof cacheKey === 'string' && cacheKey) return cacheKey;
  if (typeof user === 'string' && user) return user;
  return undefined;
}

/** Hints longer than this are remembered by their digest: a hint may be as long as the request body, and tens of thousands are kept. */
const MAX_KEPT_CHARS = 128;

/** A hint as kept: itself, or its digest when long (also the shared state's key for a response id). */
export const keptKey = (hint: string): string => (hint.length <= MAX_KEPT_CHARS ? hint : hash('sha256', hint, 'base64'));

/**
 * Where each recent session hint (or other affinity key, such as a response id) was last sent (a
 * replica's name, or what a caller keeps of it), bounded in count and size (oldest first out, O(1) per request).
 */
export class SessionHints<Replica = string> {
  private readonly replicas = new Map<string, Replica>();

  constructor(private readonly capacity: number) {}

  /** Characters of the hints held (for tests). */
  get keptChars(): number {
    let chars = 0;
    for (const key of this.replicas.keys()) chars += key.length;
    return chars;
  }

  replicaFor(hint: string): Replica | undefined {
    return this.replicas.get(keptKey(hint));
  }

  remember(hint: string, replica: Replica): void {
    const key = keptKey(hint);
    // Re-inserting moves the key to the newest end of the Map's insertion order.
    this.replicas.delete(key);
    this.replicas.set(key, replica);
    if (this.replicas.size > this.capacity) this.replicas.delete(this.replicas.keys().next().value!);
  }

  /** Forgets one hint. */
  delete(hint: string): void {
    this.replicas.delete(keptKey(hint));
  }

  /** Forgets every hint sent to `replica`. */
  forget(replica: Replica): void {
    for (const [key, name] of this.replicas) if (name === replica) this.replicas.delete(key);
  }
}
