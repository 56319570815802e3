import { SessionHints } from './session-hints.js';

/** Responses remembered (a few MB at most), as many as the cache-aware policy's session hints. */
const MAX_RESPONSES = 65_536;

/**
 * Which replica produced each recent Responses API answer. Engines (vLLM, SGLang) keep stored
 * responses per replica, so a request that continues one (`previous_response_id`) must go back to
 * the replica that holds it; any other answers 404 for an id it never stored. Oldest forgotten first.
 */
export class ResponseAffinity {
  private readonly replicas = new SessionHints(MAX_RESPONSES);

  /** The replica holding the response a request continues, when one is remembered. */
  replicaFor(body: Record<string, unknown>): string | undefined {
    const id = body.previous_response_id;
    return typeof id === 'string' && id ? this.replicas.replicaFor(id) : undefined;
  }

  /** Notes the replica that answered a request (`body`) with the response `id`, unless the client asked it not to be stored. */
  remember(body: Record<string, unknown>, id: unknown, replica: string): void {
    if (typeof id === 'string' && id && body.store !== false) this.replicas.remember(id, replica);
  }
}
