import type { Backend } from '../fleet/backend.js';
import type { Cooldowns, ResponseHolder, ResponseHolders } from '../state/shared-state.js';
import { keptKey, SessionHints } from './session-hints.js';

/** Responses remembered (a few MB at most), as many as the cache-aware policy's session hints. */
const MAX_RESPONSES = 65_536;
/** Distinct (replica, model, owner) holders shared by the responses they hold; past this many, sharing starts over. */
const MAX_HOLDERS = 4096;

/** The id of the response a Responses API request continues (`previous_response_id`), if any. */
export function continuedResponse(body: Record<string, unknown>): string | undefined {
  const id = body.previous_response_id;
  return typeof id === 'string' && id ? id : undefined;
}

/**
 * Whether `callerKey` (the id of the caller's API key, undefined without one) may use a response:
 * OpenAI scopes stored responses to the project that made them, and the router's keys stand for
 * projects. Another key is told the response does not exist, as it would be elsewhere.
 */
export const mayUse = (holder: { readonly owner?: string | undefined }, callerKey: string | undefined): boolean => holder.owner === undefined || holder.owner === callerKey;

/** Among `backends`, the replica holding a response when it may serve now (not benched): where a request about that response goes. */
export function usableHolder(backends: readonly Backend[], replica: string, cooldowns: Cooldowns): Backend | undefined {
  const backend = backends.find((candidate) => candidate.name === replica);
  return backend && cooldowns.view(backend.name).state === 'ok' ? backend : undefined;
}

/**
 * Which replica produced each recent Responses API answer, and the model its request named.
 * Engines (vLLM, SGLang) keep stored responses per replica, so a request that continues one
 * (`previous_response_id`) or retrieves, deletes or cancels one must go to the replica that holds
 * it; any other answers 404 for an id it never stored. Oldest forgotten first. Each instance keeps
 * its own map and tells the others through the shared state, so a conversation may go on through
 * any instance; a deletion through one instance is announced to all, which forget the response too.
 */
export class ResponseAffinity {
  private readonly holders = new SessionHints<ResponseHolder>(MAX_RESPONSES);
  /** One holder object per replica, model and owner, shared by every response they hold: an entry costs its key and a reference. */
  private readonly distinct = new Map<string, ResponseHolder>();

  constructor(private readonly shared: ResponseHolders) {
    // A response deleted through another instance must not stay known here: this instance would go on sending calls on it to its former holder.
    shared.onForgotten((responseId) => this.holders.delete(responseId));
  }

  /** Who holds the response `responseId`, as this instance remembers it (nobody else is asked). */
  knownHolder(responseId: string): ResponseHolder | undefined {
    return this.holders.replicaFor(responseId);
  }

  /** Who holds the response `responseId`: remembered here, else asked of the other instances (one lookup). */
  async holderOf(responseId: string): Promise<ResponseHolder | undefined> {
    const known = this.knownHolder(responseId);
    if (known !== undefined) return known;
    // A client may send an id as long as the body: the shared key stays short.
    const told = await this.shared.find(keptKey(responseId));
    if (told === undefined) return undefined;
    // Kept here too: a retried continuation of the same response needs no second lookup.
    const holder = this.holder(told.replica, told.model, told.owner);
    this.holders.remember(responseId, holder);
    return holder;
  }

  /**
   * Notes the replica that answered a request (`body`, naming `model`, sent with the API key whose id
   * is `owner`) with the response `id`, unless the client asked it not to be stored.
   */
  remember(body: Record<string, unknown>, id: unknown, replica: string, model: string, owner: string | undefined): void {
    if (typeof id !== 'string' || !id || body.store === false) return;
    const holder = this.holder(replica, model, owner);
    this.holders.remember(id, holder);
    this.shared.remember(keptKey(id), holder);
  }

  /** Forgets a deleted response, here and for the other instances. */
  forget(responseId: string): void {
    this.holders.delete(responseId);
    this.shared.forget(keptKey(responseId));
  }

  private holder(replica: string, model: string | undefined, owner: string | undefined): ResponseHolder {
    const key = `${replica}\0${model ?? ''}\0${owner ?? ''}`;
    let holder = this.distinct.get(key);
    if (holder === undefined) {
      if (this.distinct.size >= MAX_HOLDERS) this.distinct.clear();
      this.distinct.set(key, (holder = { replica, model, owner }));
    }
    return holder;
  }
}
