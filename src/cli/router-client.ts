/** How the debugging commands ask a running router: one JSON answer, or an error that says what went wrong. */
import { fetchFailureReason } from '../upstream/fetch-failure.js';

const NOT_A_ROUTER = "not as a Switchyard router answers: is that the router's address?";

/** `looksRight`: whether a 2xx answer is the JSON this route gives, so that another server's is refused by name, not by a TypeError. */
export async function askRouter<T>(url: string, token: string | undefined, looksRight: (body: Record<string, unknown>) => boolean, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  } catch (error) {
    throw new Error(`cannot reach ${new URL(url).origin}: ${fetchFailureReason(error)}`);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const record = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  if (!response.ok) {
    const message = (record?.error as { message?: unknown } | undefined)?.message;
    throw new Error(`${url} answered ${response.status}: ${typeof message === 'string' ? message : NOT_A_ROUTER}`);
  }
  if (!record || !looksRight(record)) throw new Error(`${url} answered ${response.status}, ${NOT_A_ROUTER}`);
  return record as T;
}
