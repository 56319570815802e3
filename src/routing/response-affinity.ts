import type { ResponseHolders } from '../state/shared-state.js';
import { keptKey, SessionHints } from './session-hints.js';

/** Responses remembered (a few MB at most), as many as the cache-aware policy's session hints. */
const MAX_RESPONSES = 65_536;

/** The id of the response a Responses API request continues (`previous_response_id`), if any. */
export function continuedResponse(body: Record<string, unknown>): string | undefined {
  const id = body.previous_response_id;
  return typeof id === 'string' && id ? id : undefined;
}

/**
 * Which replica produced each recent Responses API answer. Engines (vLLM, SGLang) keep stored
 * responses per replica, so a request that continues one (`previous_response_id`) must go back to
 * the replica that holds it; any other answers 404 for an id it never stored. Oldest forgotten first.
 * Each instance keeps its own map and tells the others through the shared state, so a conversation
 * may go on through any instance.
 */
export class ResponseAffinity {
  private readonly replicas = new SessionHints(MAX_RESPONSES);

  constructor(private readonly shared: ResponseHolders) {}

  /** The replica holding the response `responseId`: remembered here, else asked of the other instances (one lookup). */
  async replicaFor(responseId: string): Promise<string | undefined> {
    const known = this.replicas.replicaFor(responseId);
    if (known !== undefined) return known;
    // A client may send an id as long as the body: the shared key stays short.
    const told = await this.shared.find(keptKey(responseId));
    // Kept here too: a retried continuation of the same response needs no second lookup.
    if (told !== undefined) this.replicas.remember(responseId, told);
    return told;
  }

  /** Notes the replica that answered a request (`body`) with the response `id`, unless the client asked it not to be stored. */
  remember(body: Record<string, unknown>, id: unknown, replica: string): void {
    if (typeof id !== 'string' || !id || body.store === false) return;
    this.replicas.remember(id, replica);
    this.shared.remember(keptKey(id), replica);
  }
}
