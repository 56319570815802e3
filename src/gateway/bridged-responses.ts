import type { ProviderAdapter } from '../providers/adapter.js';
import { inputItems } from '../providers/responses/input-items.js';
import type { ResponseAffinity } from '../routing/response-affinity.js';
import { keptKey } from '../routing/session-hints.js';
import { ApiError, echoed, previousResponseNotFound } from '../server/errors.js';
import type { KeptResponses, ResponseHolder } from '../state/shared-state.js';
import { modelRefusal, type Caller } from './caller.js';
import type { InferenceRequest } from './inference-request.js';

type Item = Record<string, unknown>;

/** A response the router answered through its chat bridge, as it keeps it. */
export interface BridgedResponse {
  /** The Response as its client got it. */
  response: Item & { id: string; output: Item[] };
  /** The conversation it ends: the input items of every turn up to it (no turn's `instructions`), then its output items. */
  items: Item[];
  /** The model its request named. */
  model: string;
  /** The id of the API key whose request made it (see ResponseHolder.owner); absent when no key was in force. */
  owner?: string;
}

/** Where a Responses API request's `previous_response_id` leads: the response the router keeps, or the replica holding it, either, or neither. */
export interface Continuation {
  id: string;
  kept: BridgedResponse | undefined;
  holder: ResponseHolder | undefined;
  /** Another key's response was found, and left out of `kept` and `holder` (see seenBy). */
  concealed?: boolean;
}

/**
 * The responses of targets that keep none (Anthropic, Gemini: they speak chat, and the router
 * answers the Responses API for them), kept by the router itself as LiteLLM keeps them: each
 * Response as answered with the whole conversation it ends, so that a request continuing it
 * (`previous_response_id`) goes to the target with that conversation before its own input, and the
 * calls on a stored response are answered without a target. In the shared state (memory, or Redis
 * for every instance), bounded there (bridged_responses.ttl_s, max_bytes).
 */
export class BridgedResponses {
  constructor(private readonly kept: KeptResponses) {}

  /** Keeps a Response of the bridge answering `request`, made with the API key `owner`, unless the client asked it not to be stored. */
  keep(request: InferenceRequest, response: Item, owner: string | undefined): void {
    const { id, output } = response;
    if (request.body.store === false || typeof id !== 'string' || !Array.isArray(output)) return;
    const earlier = request.previousItems ?? [];
    const items = [...earlier, ...inputItems(request.body.input, earlier), ...(output as Item[])];
    const kept: BridgedResponse = { response: { ...response, id, output }, items, model: request.model, owner };
    // A client may send an id as long as the body: the store's key stays short.
    this.kept.keep(keptKey(id), JSON.stringify(kept));
  }

  async find(responseId: string): Promise<BridgedResponse | undefined> {
    const json = await this.kept.find(keptKey(responseId));
    return json === undefined ? undefined : (JSON.parse(json) as BridgedResponse);
  }

  /** True when it was kept. */
  forget(responseId: string): Promise<boolean> {
    return this.kept.forget(keptKey(responseId));
  }
}

/** Both places the response `id` may be, asked at once; a response a replica is known here to hold is none the router keeps. */
export async function continuationOf(id: string, holders: ResponseAffinity, bridged: BridgedResponses): Promise<Continuation> {
  const known = holders.knownHolder(id);
  if (known !== undefined) return { id, kept: undefined, holder: known };
  const [kept, holder] = await Promise.all([bridged.find(id), holders.holderOf(id)]);
  return { id, kept, holder };
}

/**
 * A continuation as a caller who may read only the responses `mayRead` allows learns it: another
 * key's response is unknown to it, as an id never made, and concealed, so that no replica that may
 * hold it is asked to continue it (see continuationRefusal).
 */
export function seenBy({ id, kept, holder }: Continuation, mayRead: (response: { readonly owner?: string | undefined }) => boolean): Continuation {
  const seenKept = kept && mayRead(kept) ? kept : undefined;
  const seenHolder = holder && mayRead(holder) ? holder : undefined;
  return { id, kept: seenKept, holder: seenHolder, concealed: seenKept !== kept || seenHolder !== holder };
}

/** The input items a kept response was made from: its conversation less its own output. */
export const keptInputItems = ({ items, response }: BridgedResponse): Item[] => items.slice(0, items.length - response.output.length);

/**
 * Why the target `adapter` speaks for cannot continue a request's previous response, undefined when
 * it can: a response the router keeps is for the bridge to continue, one a replica holds is for
 * that replica's model (the router cannot hand a conversation from one to the other), and on the
 * bridge a response the router does not keep is not found. Otherwise an unknown id goes to the
 * target, whose own answer stands.
 */
export function continuationRefusal(adapter: ProviderAdapter, { id, kept, holder, concealed }: Continuation, model: string): ApiError | undefined {
  if (adapter.storesNoResponses) {
    if (kept !== undefined) return undefined;
    if (holder === undefined) return previousResponseNotFound(id, 'the router keeps no response of that id (never made here, made with "store": false or too large to keep, expired, or deleted)');
    return notContinuable(
      id,
      `it is held by '${holder.replica}' (model '${holder.model ?? 'unknown'}'), which keeps its own responses, and model '${model}' is answered through the router's chat bridge; continue it with the model that made it`,
    );
  }
  // Where an unknown id goes, another key's response would be continued for this caller by the replica holding it.
  if (concealed) return previousResponseNotFound(id);
  if (kept === undefined) return undefined;
  return notContinuable(id, `it was answered through the router's chat bridge (model '${kept.model}'), which keeps it, and model '${model}' is served by a target that keeps its own responses; continue it with model '${kept.model}'`);
}

/**
 * The 403 for continuing a response made with a model the caller's key may not use: the request
 * goes on from that response's conversation (on the replica holding it, or through the chat bridge
 * from what the router keeps), which is the model's, so that a key may continue only what it may
 * retrieve (see ResponseCalls). A response made while no key was in force is any key's, and its
 * model is checked all the same. A holder whose model is unknown (recorded by an instance of an
 * earlier version, which shared the replica alone) cannot be checked.
 */
export function continuedModelRefusal({ kept, holder }: Continuation, caller: Caller | undefined): ApiError | undefined {
  for (const model of [kept?.model, holder?.model]) {
    const refusal = model === undefined ? undefined : modelRefusal(caller, model);
    if (refusal) return refusal;
  }
  return undefined;
}

const notContinuable = (id: string, why: string) => new ApiError(400, `Previous response with id '${echoed(id)}' cannot be continued with this model: ${why}.`, 'invalid_request_error', 'previous_response_not_continuable', 'previous_response_id');
