/** How the debugging commands ask a running router: one JSON answer, or an error that says what went wrong. */
import { fetchFailureReason } from '../upstream/fetch-failure.js';

const NOT_A_ROUTER = "not as a Switchyard router answers: is that the router's address?";

/**
 * A router answers these reads in milliseconds: one silent this long is stopped or hung, and
 * fetch alone would wait five minutes (undici's headers timeout) before saying anything.
 */
const ANSWER_TIMEOUT_S = 10;

/** `looksRight`: whether a 2xx answer is the JSON this route gives, so that another server's is refused by name, not by a TypeError. */
export async function askRouter<T>(url: string, token: string | undefined, looksRight: (body: Record<string, unknown>) => boolean, init: RequestInit = {}): Promise<T> {
  const signal = AbortSignal.timeout(ANSWER_TIMEOUT_S * 1000);
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { ...init, signal, headers: { ...(init.headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    text = await response.text();
  } catch (error) {
    const origin = new URL(url).origin;
    throw new Error(signal.aborted ? `${origin} did not answer within ${ANSWER_TIMEOUT_S} s` : `cannot reach ${origin}: ${fetchFailureReason(error)}`);
  }
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
