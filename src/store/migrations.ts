/**
 * Schema changes, applied in order once each (the database's user_version counts how many ran).
 * Append only: never edit a migration that has shipped.
 */
export const MIGRATIONS: readonly string[] = [
  // API keys (issue 5): only the sha256 of a key is stored; `prefix` helps people tell keys apart.
  `CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    rpm INTEGER,
    tpm INTEGER,
    models TEXT,
    budget_usd REAL,
    spent_usd REAL NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  );`,
];
