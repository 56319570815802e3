import type { ServerResponse } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { bearerToken } from '../server/bearer-token.js';
import { ApiError } from '../server/errors.js';
import type { Revocations } from '../state/shared-state.js';
import { hashKey, MAX_KEY_LENGTH, type ApiKeyRecord, type ApiKeyStore } from '../store/api-keys.js';

/** Who is asking: an API key, or (while the router is open) the client's address. */
export interface Caller {
  /** Rate-limit identity. */
  id: string;
  key?: ApiKeyRecord;
}

/** The caller an API key makes. */
export const callerOf = (key: ApiKeyRecord): Caller => ({ id: `key:${key.id}`, key });

/** `acceptsApiKeyHeader`: the route also reads the key from `x-api-key` (the Messages API route), and says so. */
export const invalidApiKey = (acceptsApiKeyHeader = false) =>
  new ApiError(
    401,
    acceptsApiKeyHeader
      ? 'Incorrect API key provided. Send a valid key as "x-api-key: <key>" or "Authorization: Bearer <key>".'
      : 'Incorrect API key provided. Send a valid key as "Authorization: Bearer <key>".',
    'invalid_request_error',
    'invalid_api_key',
  );

export const modelNotAllowed = (model: string) =>
  new ApiError(403, `This API key may not use the model '${model}'`, 'permission_error', 'model_not_allowed', 'model');

/** The 403 for a caller whose key may not use `model`; undefined when it may. */
export function modelRefusal(caller: Caller | undefined, model: string): ApiError | undefined {
  const models = caller?.key?.models;
  return models && !models.includes(model) ? modelNotAllowed(model) : undefined;
}

export const budgetExceeded = (budget: number) =>
  new ApiError(429, `This API key has spent its budget of $${budget}`, 'insufficient_quota', 'insufficient_quota');

/** How often an open router looks for a first key created by another process (the CLI, another instance). */
const OPEN_CHECK_MS = 2000;

/**
 * Identifies the caller from its bearer key. Records are kept for a few seconds to spare SQLite
 * on the hot path; revocations bypass that memory because they are announced to every instance.
 * Unless keys are required from the start, the router is open until the first key is created;
 * from then on keys are required for good, so revoking the last key, typically because it
 * leaked, does not open the router to everyone.
 */
export class CallerIdentifier {
  private readonly known = new Map<string, { record: ApiKeyRecord | undefined; readAt: number }>();
  private readonly hashes = new Map<string, string>();
  private keysIssued = false;
  private keysCheckedAt = -Infinity;

  constructor(
    private readonly store: ApiKeyStore,
    private readonly revocations: Revocations,
    private readonly options: { required: boolean; cacheTtlS: number },
  ) {}

  /**
   * Who is asking (throws a 401 for a missing, unknown or revoked key). `acceptsApiKeyHeader`: the
   * key may also come as `x-api-key`, as the Anthropic SDK sends it (the Messages API route).
   */
  identify(headers: IncomingHttpHeaders, res: ServerResponse, acceptsApiKeyHeader = false): Caller {
    if (!this.keysRequired()) return { id: `ip:${res.req?.socket.remoteAddress ?? 'unknown'}` };
    const presented = acceptsApiKeyHeader && headers.authorization === undefined ? apiKeyHeader(headers) : bearerToken(headers.authorization);
    return callerOf(this.authenticateKey(presented, acceptsApiKeyHeader));
  }

  /** The active key an `Authorization` header carries, or a 401. */
  authenticate(authorization: string | undefined): ApiKeyRecord {
    return this.authenticateKey(bearerToken(authorization));
  }

  private authenticateKey(presented: string | undefined, acceptsApiKeyHeader = false): ApiKeyRecord {
    // Refused before it is hashed or remembered: random long strings would otherwise fill the memory of hashes.
    if (!presented || presented.length > MAX_KEY_LENGTH) throw invalidApiKey(acceptsApiKeyHeader);
    const keyHash = this.hashOf(presented);
    const record = this.revocations.isRevoked(keyHash) ? undefined : this.lookup(keyHash);
    if (!record || record.revokedAt) throw invalidApiKey(acceptsApiKeyHeader);
    return record;
  }

  /** Whether an identified caller may ask for `model` now (throws a 403 for a model off its list, a 429 past its budget). */
  authorize(caller: Caller, model: string): void {
    this.authorizeModel(caller, model);
    const record = caller.key;
    if (record?.budgetUsd !== undefined && record.spentUsd >= record.budgetUsd) throw budgetExceeded(record.budgetUsd);
  }

  /** Whether an identified caller may reach `model` at all (throws a 403 for a model off its list); its budget aside. */
  authorizeModel(caller: Caller, model: string): void {
    const refusal = modelRefusal(caller, model);
    if (refusal) throw refusal;
  }

  /** Counts spend in the remembered record at once, so the budget holds before the next read. */
  addSpend(record: ApiKeyRecord, usd: number): void {
    record.spentUsd += usd;
    this.store.addSpend(record.id, usd);
  }

  /** A key revoked through this instance is forgotten at once. */
  forget(keyHash: string): void {
    this.known.delete(keyHash);
  }

  /** A key created through this instance closes the router at once. */
  keyIssued(): void {
    this.keysIssued = true;
  }

  /** False only while the router is open: no key was ever created and keys are not required. */
  keysRequired(): boolean {
    if (this.options.required || this.keysIssued) return true;
    const now = performance.now();
    if (now - this.keysCheckedAt > OPEN_CHECK_MS) {
      this.keysIssued = this.store.hasIssuedKeys();
      this.keysCheckedAt = now;
    }
    return this.keysIssued;
  }

  /** sha256 of a presented key, remembered: a busy key would otherwise be hashed on every request. */
  private hashOf(presented: string): string {
    let keyHash = this.hashes.get(presented);
    if (keyHash === undefined) {
      if (this.hashes.size >= 10_000) this.hashes.clear();
      keyHash = hashKey(presented);
      this.hashes.set(presented, keyHash);
    }
    return keyHash;
  }

  private lookup(keyHash: string): ApiKeyRecord | undefined {
    const now = performance.now();
    const cached = this.known.get(keyHash);
    if (cached && now - cached.readAt < this.options.cacheTtlS * 1000) return cached.record;
    const record = this.store.findByHash(keyHash);
    if (this.known.size > 10_000) this.known.clear();
    this.known.set(keyHash, { record, readAt: now });
    return record;
  }
}

/** The key an `x-api-key` header carries (read only where it is accepted: chat requests never pay for the lookup). */
function apiKeyHeader(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey.trim() : undefined;
}
