import { hash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from './database.js';

export interface ApiKeyLimits {
  rpm?: number;
  tpm?: number;
  /** Models the key may use; undefined means all. */
  models?: string[];
  budgetUsd?: number;
}

export interface ApiKeyRecord extends ApiKeyLimits {
  id: string;
  name: string;
  keyHash: string;
  /** The first characters of the key, safe to show. */
  prefix: string;
  spentUsd: number;
  createdAt: string;
  revokedAt: string | null;
}

interface Row {
  id: string;
  name: string;
  key_hash: string;
  prefix: string;
  rpm: number | null;
  tpm: number | null;
  models: string | null;
  budget_usd: number | null;
  spent_usd: number;
  created_at: string;
  revoked_at: string | null;
}

/**
 * What revoking by id or name did. Names are not unique (a rotation creates the new key under the
 * old name), so a name matching several active keys revokes none: the caller must pick an id.
 */
export type Revocation =
  | { outcome: 'revoked'; record: ApiKeyRecord }
  | { outcome: 'not_found' }
  | { outcome: 'already_revoked'; record: ApiKeyRecord }
  | { outcome: 'ambiguous'; active: ApiKeyRecord[] };

export const hashKey = (key: string) => hash('sha256', key);

/** Issued keys have 38 characters; a longer bearer string cannot be one of them. */
export const MAX_KEY_LENGTH = 64;

/** API keys in SQLite. Keys themselves are shown once at creation and never stored. */
export class ApiKeyStore {
  private readonly byHash;
  private readonly byId;
  private readonly byName;
  private readonly revokeStatement;
  private readonly addSpendStatement;
  private readonly anyIssued;

  constructor(private readonly db: Db) {
    this.byHash = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE key_hash = ?');
    this.byId = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE id = ?');
    this.byName = db.prepare<[string], Row>('SELECT * FROM api_keys WHERE name = ? ORDER BY created_at, rowid');
    this.revokeStatement = db.prepare<[string, string]>('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    this.addSpendStatement = db.prepare<[number, string]>('UPDATE api_keys SET spent_usd = spent_usd + ? WHERE id = ?');
    this.anyIssued = db.prepare<[], { issued: number }>('SELECT EXISTS (SELECT 1 FROM api_keys) AS issued');
  }

  create(name: string, limits: ApiKeyLimits = {}): { key: string; record: ApiKeyRecord } {
    const key = `sk-sy-${randomBytes(24).toString('base64url')}`;
    const row: Row = {
      id: randomUUID(),
      name,
      key_hash: hashKey(key),
      prefix: key.slice(0, 10),
      rpm: limits.rpm ?? null,
      tpm: limits.tpm ?? null,
      models: limits.models ? JSON.stringify(limits.models) : null,
      budget_usd: limits.budgetUsd ?? null,
      spent_usd: 0,
      created_at: new Date().toISOString(),
      revoked_at: null,
    };
    this.db
      .prepare('INSERT INTO api_keys (id, name, key_hash, prefix, rpm, tpm, models, budget_usd, spent_usd, created_at, revoked_at) VALUES (@id, @name, @key_hash, @prefix, @rpm, @tpm, @models, @budget_usd, @spent_usd, @created_at, @revoked_at)')
      .run(row);
    return { key, record: fromRow(row) };
  }

  list(): ApiKeyRecord[] {
    return this.db.prepare<[], Row>('SELECT * FROM api_keys ORDER BY created_at').all().map(fromRow);
  }

  findByHash(keyHash: string): ApiKeyRecord | undefined {
    const row = this.byHash.get(keyHash);
    return row && fromRow(row);
  }

  /** Revokes the key with this id or, failing that, the one active key with this name. */
  revoke(idOrName: string): Revocation {
    const byId = this.byId.get(idOrName);
    const rows = byId ? [byId] : this.byName.all(idOrName);
    if (rows.length === 0) return { outcome: 'not_found' };
    const active = rows.filter((row) => !row.revoked_at);
    if (active.length > 1) return { outcome: 'ambiguous', active: active.map(fromRow) };
    const row = active[0];
    if (!row) return { outcome: 'already_revoked', record: fromRow(rows.at(-1)!) };
    const revokedAt = new Date().toISOString();
    // Another process (the CLI, another instance on the same file) may have revoked it meanwhile.
    if (this.revokeStatement.run(revokedAt, row.id).changes === 0) return { outcome: 'already_revoked', record: fromRow(this.byId.get(row.id)!) };
    return { outcome: 'revoked', record: fromRow({ ...row, revoked_at: revokedAt }) };
  }

  addSpend(id: string, usd: number): void {
    this.addSpendStatement.run(usd, id);
  }

  /** Whether any key was ever created here, revoked ones included (rows are never deleted). */
  hasIssuedKeys(): boolean {
    return this.anyIssued.get()!.issued === 1;
  }
}

function fromRow(row: Row): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    keyHash: row.key_hash,
    prefix: row.prefix,
    rpm: row.rpm ?? undefined,
    tpm: row.tpm ?? undefined,
    models: row.models ? (JSON.parse(row.models) as string[]) : undefined,
    budgetUsd: row.budget_usd ?? undefined,
    spentUsd: row.spent_usd,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

/** Why a revocation revoked nothing, as the admin API and the CLI say it. */
export function unrevokedReason(idOrName: string, revocation: Exclude<Revocation, { outcome: 'revoked' }>): string {
  switch (revocation.outcome) {
    case 'not_found':
      return `No API key has the id or name '${idOrName}'`;
    case 'already_revoked':
      return `The API key '${idOrName}' (id ${revocation.record.id}) is already revoked`;
    case 'ambiguous': {
      const keys = revocation.active.map((k) => `${k.id} (${k.prefix}…, created ${k.createdAt})`).join(', ');
      return `${revocation.active.length} active API keys are named '${idOrName}': ${keys}. Revoke one by its id`;
    }
  }
}

/** The record as the CLI and admin API show it (never the hash). */
export function describeKey(record: ApiKeyRecord) {
  return {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    rpm: record.rpm ?? null,
    tpm: record.tpm ?? null,
    models: record.models ?? null,
    budget_usd: record.budgetUsd ?? null,
    spent_usd: record.spentUsd,
    created_at: record.createdAt,
    revoked: record.revokedAt !== null,
  };
}
