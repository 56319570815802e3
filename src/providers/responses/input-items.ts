import { routerId } from '../router-id.js';
import { outputText } from './response.js';

type Item = Record<string, unknown>;

/** What a page of input items is asked for by (`GET …/input_items`): `order` (default `desc`), items `after` an id, at most `limit` (1 to 100, default 20). */
export interface InputItemQuery {
  order?: string;
  after?: string;
  limit?: string;
}

const ITEM_STATUSES = new Set(['in_progress', 'completed', 'incomplete']);

/**
 * A request's `input` as the items the Responses API lists for it (`GET /v1/responses/{id}/input_items`),
 * in the shapes it lists them: a string is a user message, a message's string content its one text
 * part, and each part in the shape of its role's content; every item with a status and an id of its
 * own: the client's, unless it is no string or names an item before it (in `earlier`, the
 * conversation's items so far, or in this input), as a page's `after` must name one item.
 */
export function inputItems(input: unknown, earlier: readonly Item[] = []): Item[] {
  const items = typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : Array.isArray(input) ? (input as unknown[]) : [];
  const taken = new Set(earlier.map((item) => item.id));
  const ownId = (id: unknown, prefix: string): string => {
    const unique = typeof id === 'string' && !taken.has(id) ? id : routerId(prefix);
    taken.add(unique);
    return unique;
  };
  return items.map((item) => {
    const fields = item !== null && typeof item === 'object' ? (item as Item) : {};
    if ((fields.type ?? 'message') !== 'message') {
      // A local shell call, or its output, may name its call by its id alone (see toChatRequest): the call id stays when the id is replaced.
      const callId = typeof fields.call_id === 'string' || !LOCAL_SHELL_ITEMS.has(fields.type) ? {} : { call_id: fields.id };
      const status = ITEM_STATUSES.has(fields.status as string) ? fields.status : 'completed';
      return { ...fields, ...callId, id: ownId(fields.id, 'item'), status };
    }
    const assistant = fields.role === 'assistant';
    const { content } = fields;
    const parts = typeof content === 'string' ? [assistant ? outputText(content) : { type: 'input_text', text: content }] : Array.isArray(content) ? content.map((part: unknown) => listedPart(part, assistant)) : content;
    return { id: ownId(fields.id, 'msg'), type: 'message', role: fields.role, status: 'completed', content: parts };
  });
}

const LOCAL_SHELL_ITEMS = new Set<unknown>(['local_shell_call', 'local_shell_call_output']);

/** A content part as listed: an assistant's text (or refusal) as output content, others' text as input text and images with their detail. */
function listedPart(part: unknown, assistant: boolean): unknown {
  if (part === null || typeof part !== 'object') return part;
  const { type } = part as Item;
  if (type === 'input_image') return { detail: 'auto', ...part };
  if (assistant) return type === 'refusal' ? part : { annotations: [], logprobs: [], ...part, type: 'output_text' };
  return type === 'input_text' ? part : { type: 'input_text', text: type === 'refusal' ? (part as Item).refusal : (part as Item).text };
}

/** A page of input items as `GET …/input_items` answers it (see InputItemQuery). */
export function inputItemPage(items: readonly Item[], query: InputItemQuery) {
  const ordered = query.order === 'asc' ? [...items] : [...items].reverse();
  const start = query.after === undefined ? 0 : ordered.findIndex((item) => item.id === query.after) + 1;
  const limit = Math.min(100, Math.max(1, Number(query.limit ?? 20) || 20));
  const data = ordered.slice(start, start + limit);
  return { object: 'list', data, first_id: data[0]?.id ?? '', last_id: data.at(-1)?.id ?? '', has_more: start + limit < ordered.length };
}
