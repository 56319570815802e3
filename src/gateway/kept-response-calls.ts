import { inputItemPage, type InputItemQuery } from '../providers/responses/input-items.js';
import { badRequest } from '../server/errors.js';
import { keptInputItems, type BridgedResponses, type BridgedResponse } from './bridged-responses.js';
import type { ResponseCallRequest } from './response-calls.js';

/**
 * The answer to a call on a response the router keeps itself (see BridgedResponses), made here
 * with no target asked, as OpenAI answers it: the Response, OpenAI's deletion object, a page of the
 * input items (the conversation's, earlier turns included), or a 400 for cancelling it (only a
 * response made in the background can be, and the bridge makes none). Its replay as a stream is
 * refused: what is kept is the Response, not its events.
 */
export async function keptResponseAnswer(request: ResponseCallRequest, kept: BridgedResponse, bridged: BridgedResponses): Promise<string> {
  const { responseId } = request;
  const query = new URLSearchParams(request.query);
  switch (request.call) {
    case 'retrieve':
      if (query.get('stream') === 'true') {
        throw badRequest(`Response with id '${responseId}' was answered through the router's chat bridge, which keeps the Response but not its events: retrieve it without 'stream'`, 'stream', 'unsupported_parameter');
      }
      return JSON.stringify(kept.response);
    case 'delete':
      await bridged.forget(responseId);
      return JSON.stringify({ id: responseId, object: 'response', deleted: true });
    case 'cancel':
      throw badRequest('Cannot cancel a synchronous response.');
    case 'input_items': {
      const items = keptInputItems(kept);
      return JSON.stringify(inputItemPage(items, pageQuery(query, items)));
    }
  }
}

/** The page asked for, checked: a page the API would not give is the client's error. */
function pageQuery(query: URLSearchParams, items: readonly Record<string, unknown>[]): InputItemQuery {
  const order = query.get('order') ?? undefined;
  if (order !== undefined && order !== 'asc' && order !== 'desc') throw badRequest(`Invalid 'order': expected 'asc' or 'desc', got '${order}'`, 'order', 'invalid_value');
  const limit = query.get('limit') ?? undefined;
  if (limit !== undefined && !(/^\d+$/.test(limit) && Number(limit) >= 1 && Number(limit) <= 100)) {
    throw badRequest(`Invalid 'limit': expected an integer from 1 to 100, got '${limit}'`, 'limit', 'invalid_value');
  }
  const after = query.get('after') ?? undefined;
  if (after !== undefined && !items.some((item) => item.id === after)) throw badRequest(`Invalid 'after': no input item of this response has id '${after}'`, 'after', 'invalid_value');
  return { order, limit, after };
}
