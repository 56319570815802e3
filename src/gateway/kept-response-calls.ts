import { inputItemPage, type InputItemQuery } from '../providers/responses/input-items.js';
import { replayedEvents } from '../providers/responses/replay.js';
import { badRequest, echoed, responseNotFound } from '../server/errors.js';
import { keptInputItems, type BridgedResponses, type BridgedResponse } from './bridged-responses.js';
import type { ResponseCallRequest } from './response-calls.js';

/** An answer made here: its body and content type. */
export interface KeptResponseAnswer {
  body: string;
  contentType: 'application/json' | 'text/event-stream';
}

/**
 * The answer to a call on a response the router keeps itself (see BridgedResponses), made here
 * with no target asked, as OpenAI answers it: the Response (with `?stream=true`, its events
 * replayed, from `starting_after` when given), OpenAI's deletion object, a page of the input items
 * (the conversation's, earlier turns included), or a 400 for cancelling it (only a response made
 * in the background can be, and the bridge makes none).
 */
export async function keptResponseAnswer(request: ResponseCallRequest, kept: BridgedResponse, bridged: BridgedResponses): Promise<KeptResponseAnswer> {
  const { responseId } = request;
  switch (request.call) {
    case 'retrieve':
      // `include` changes nothing: the Response is kept as its client got it, with all the bridge made of it (whatever `include` said then).
      if (request.retrieve?.stream) return { body: replayedEvents(kept.response, request.retrieve.startingAfter), contentType: 'text/event-stream' };
      return json(kept.response);
    case 'delete':
      // Not dropped by this call (another, through another instance, deleted it meanwhile; or its store did not answer): not deleted by it.
      if (!(await bridged.forget(responseId))) throw responseNotFound(responseId);
      return json({ id: responseId, object: 'response', deleted: true });
    case 'cancel':
      throw badRequest('Cannot cancel a synchronous response.');
    case 'input_items': {
      const items = keptInputItems(kept);
      return json(inputItemPage(items, pageQuery(new URLSearchParams(request.query), items)));
    }
  }
}

const json = (value: unknown): KeptResponseAnswer => ({ body: JSON.stringify(value), contentType: 'application/json' });

/** The page asked for, checked: a page the API would not give is the client's error. */
function pageQuery(query: URLSearchParams, items: readonly Record<string, unknown>[]): InputItemQuery {
  const order = query.get('order') ?? undefined;
  if (order !== undefined && order !== 'asc' && order !== 'desc') throw badRequest(`Invalid 'order': expected 'asc' or 'desc', got '${echoed(order)}'`, 'order', 'invalid_value');
  const limit = query.get('limit') ?? undefined;
  if (limit !== undefined && !(/^\d+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 100)) {
    throw badRequest(`Invalid 'limit': expected an integer from 1 to 100, got '${echoed(limit)}'`, 'limit', 'invalid_value');
  }
  const after = query.get('after') ?? undefined;
  if (after !== undefined && !items.some((item) => item.id === after)) throw badRequest(`Invalid 'after': no input item of this response has id '${echoed(after)}'`, 'after', 'invalid_value');
  return { order, limit, after };
}
