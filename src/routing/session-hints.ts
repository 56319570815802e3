/** The client's own affinity hint: OpenAI's `prompt_cache_key`, else the `user` field. */
export function sessionHint(body: Record<string, unknown>): string | undefined {
  const { prompt_cache_key: cacheKey, user } = body;
  if (typeof cacheKey === 'string' && cacheKey) return cacheKey;
  if (typeof user === 'string' && user) return user;
  return undefined;
}

/** Where each recent session hint was last sent, bounded (oldest first out, O(1) per request). */
export class SessionHints {
  private readonly replicas = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  replicaFor(key: string): string | undefined {
    return this.replicas.get(key);
  }

  remember(key: string, replica: string): void {
    // Re-inserting moves the key to the newest end of the Map's insertion order.
    this.replicas.delete(key);
    this.replicas.set(key, replica);
    if (this.replicas.size > this.capacity) this.replicas.delete(this.replicas.keys().next().value!);
  }

  forget(replica: string): void {
    for (const [key, name] of this.replicas) if (name === replica) this.replicas.delete(key);
  }
}
