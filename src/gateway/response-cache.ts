import { hash } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { CachedResponse, CacheWrite } from '../state/shared-state.js';
import { cacheControls } from './cache-controls.js';
import { removeRouterField, type InferenceRequest } from './inference-request.js';
import { isEventStreamType, targetHeader } from './relay.js';

export type CacheStatus = 'hit' | 'miss' | 'bypass';

export interface CachePlan {
  status: CacheStatus;
  /** Set when the answer may be stored. */
  key: string | undefined;
  /** Collected answer bytes while they stay under the entry size limit. */
  chunks: string[];
  bytes: number;
  /** For a stream's chunks, which may end inside a UTF-8 character: its rest comes with the next chunk. */
  decoder: StringDecoder | undefined;
  ttlS: number;
  /** Set when the request accepts only entries stored at most this long ago. */
  maxAgeS: number | undefined;
}

export interface CacheOptions {
  enabled: boolean;
  ttlS: number;
  maxEntryBytes: number;
}

const BYPASS: Readonly<CachePlan> = Object.freeze({ status: 'bypass', key: undefined, chunks: [], bytes: 0, decoder: undefined, ttlS: 0, maxAgeS: undefined });

/**
 * Exact-match response cache. A request is cached when it is deterministic enough: embeddings
 * always, completions when `temperature` is 0 or the request opts in with `"cache": true` (or
 * LiteLLM's cache controls, see cache-controls.ts); the Responses API only by opting in.
 * `"cache": false` and `Cache-Control: no-store` skip the cache; `Cache-Control: no-cache`
 * fetches a fresh answer and stores it.
 */
export class ResponseCacheStage {
  constructor(private readonly options: CacheOptions) {}

  /** Decides, and removes the router's own `cache` field from what goes upstream; throws a 400 for a bad `cache`. */
  plan(request: InferenceRequest): CachePlan {
    const controls = request.body.cache === undefined ? undefined : cacheControls(request.body.cache);
    if (controls) removeRouterField(request, 'cache');
    if (!this.options.enabled || controls?.noStore) return BYPASS;
    const control = String(request.headers['cache-control'] ?? '').toLowerCase();
    if (control.includes('no-store')) return BYPASS;
    // A Responses API answer is not a pure function of its request: the engine stores it under its id for a later `previous_response_id`.
    if (!(controls?.optIn || request.endpoint === 'embeddings' || (request.body.temperature === 0 && request.endpoint !== 'responses'))) return BYPASS;
    // Canonical JSON starts with '{', so a namespace cannot make one request's key another's.
    const scope = controls?.namespace === undefined ? '' : `${controls.namespace}\0`;
    const key = hash('sha256', `${scope}${request.endpoint}\0${request.endpoint === 'messages' ? messagesVariant(request.headers) : ''}${canonicalJson(request.body)}`);
    const fresh = control.includes('no-cache') || controls?.noCache === true;
    return { status: fresh ? 'bypass' : 'miss', key, chunks: [], bytes: 0, decoder: undefined, ttlS: controls?.ttlS ?? this.options.ttlS, maxAgeS: controls?.maxAgeS };
  }

  /** The key to read, when the plan reads the cache. */
  lookupKey(plan: CachePlan): string | undefined {
    return plan.status === 'miss' ? plan.key : undefined;
  }

  /** Takes in what the lookup found, unless it is older than the request accepts (then the fresh answer replaces it). */
  found(plan: CachePlan, entry: CachedResponse | undefined): CachedResponse | undefined {
    if (!entry) return undefined;
    if (plan.maxAgeS !== undefined && !(Date.now() - (entry.storedAt ?? 0) <= plan.maxAgeS * 1000)) return undefined;
    plan.status = 'hit';
    return entry;
  }

  /** Collects an answer's bytes as relayed (`byteLength`: a string's size in UTF-8, when the caller knows it); gives up on answers too large to keep. */
  collect(plan: CachePlan, bytes: Buffer | string, byteLength?: number): void {
    if (!plan.key) return;
    plan.bytes += byteLength ?? (typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length);
    if (plan.bytes > this.options.maxEntryBytes) {
      plan.key = undefined;
      plan.chunks = [];
      return;
    }
    if (typeof bytes === 'string') plan.chunks.push(bytes);
    else plan.chunks.push((plan.decoder ??= new StringDecoder('utf8')).write(bytes));
  }

  /** The entry to store for a complete, successful answer. */
  entry(plan: CachePlan, contentType: string, target: string): CacheWrite | undefined {
    if (!plan.key || plan.chunks.length === 0) return undefined;
    return { key: plan.key, value: { status: 200, contentType, chunks: plan.chunks, target, storedAt: Date.now() }, ttlS: plan.ttlS, bytes: plan.bytes };
  }
}

/** Writes a cached answer as it was first sent (a stream with its original chunking). */
export function replay(res: ServerResponse, hit: CachedResponse, headers: OutgoingHttpHeaders): void {
  headers['content-type'] = hit.contentType;
  headers['x-switchyard-target'] = targetHeader(hit.target);
  if (!isEventStreamType(hit.contentType)) headers['content-length'] = hit.chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
  res.writeHead(hit.status, headers);
  for (const chunk of hit.chunks) res.write(chunk);
  res.end();
}

/**
 * What besides its body chooses a Messages API answer: the API version and beta flags the client
 * sent, which an Anthropic target is given (a beta changes what a body means and what comes back).
 * Header values hold no NUL, so the key stays unambiguous.
 */
function messagesVariant(headers: IncomingHttpHeaders): string {
  return `${headers['anthropic-version'] ?? ''}\0${headers['anthropic-beta'] ?? ''}\0`;
}

/** JSON with object keys sorted, so that key order does not split the cache. Loops, not map/filter: it runs per cacheable request. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}
