import { routerId } from '../router-id.js';
import { outputText } from './response.js';

type Item = Record<string, unknown>;

/** What a page of input items is asked for by (`GET …/input_items`): `order` (default `desc`), items `after` an id, at most `limit` (1 to 100, default 20). */
export interface InputItemQuery {
  order?: string;
  after?: string;
  limit?: string;
}

/**
 * A request's `input` as the items the Responses API lists for it (`GET /v1/responses/{id}/input_items`),
 * each with an id: a string is a user message, and a message's string content its one text part.
 */
export function inputItems(input: unknown): Item[] {
  const items = typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : Array.isArray(input) ? (input as unknown[]) : [];
  return items.map((item) => {
    const fields = item !== null && typeof item === 'object' ? (item as Item) : {};
    if ((fields.type ?? 'message') !== 'message') return { id: fields.id ?? routerId('item'), ...fields };
    const assistant = fields.role === 'assistant';
    const content = typeof fields.content === 'string' ? [assistant ? outputText(fields.content) : { type: 'input_text', text: fields.content }] : fields.content;
    return { id: fields.id ?? routerId('msg'), type: 'message', role: fields.role, status: 'completed', content };
  });
}

/** A page of input items as `GET …/input_items` answers it (see InputItemQuery). */
export function inputItemPage(items: readonly Item[], query: InputItemQuery) {
  const ordered = query.order === 'asc' ? [...items] : [...items].reverse();
  const start = query.after === undefined ? 0 : ordered.findIndex((item) => item.id === query.after) + 1;
  const limit = Math.min(100, Math.max(1, Number(query.limit ?? 20) || 20));
  const data = ordered.slice(start, start + limit);
  return { object: 'list', data, first_id: data[0]?.id ?? '', last_id: data.at(-1)?.id ?? '', has_more: start + limit < ordered.length };
}
