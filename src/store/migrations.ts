/**
 * Schema changes, applied in order once each (the database's user_version counts how many ran).
 * Append only: never edit a migration that has shipped.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: model registry and agent registrations
  `CREATE TABLE models (
     name TEXT PRIMARY KEY,
     type TEXT NOT NULL,
     endpoint TEXT NOT NULL,
     kind TEXT NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'weight')),
     upstream_model TEXT,
     weight REAL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE agents (
     name TEXT PRIMARY KEY,
     endpoint TEXT NOT NULL,
     models TEXT NOT NULL,
     registered_at TEXT NOT NULL,
     last_heartbeat_ms INTEGER NOT NULL
   );`,
  // The request log: one row per inference request, written in batches off the hot path.
  `CREATE TABLE request_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    caller_key TEXT,
    route TEXT NOT NULL,
    model TEXT NOT NULL,
    target TEXT,
    status INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    ttft_ms REAL,
    inter_token_ms REAL,
    overhead_ms REAL,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    cached_tokens INTEGER,
    cost REAL,
    cache_status TEXT,
    retries INTEGER NOT NULL DEFAULT 0,
    fallbacks INTEGER NOT NULL DEFAULT 0,
    decision TEXT
  );
  CREATE INDEX request_log_ts ON request_log (ts);`,
  // API keys: only the sha256 of a key is stored; `prefix` helps people tell keys apart.
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
  // Model groups in the registry: a name's weighted targets (JSON; NULL means the model of
  // that name itself) and its ordered fallback models (JSON array), as YAML `model_groups` has them.
  `CREATE TABLE model_groups (
    name TEXT PRIMARY KEY,
    targets TEXT,
    fallbacks TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );`,
  // The model list each discovering service (no `models:` in its config) last reported, so a
  // router that starts while the engine is down still knows its models (503, not a detour by prefix rule).
  `CREATE TABLE discovered_models (
    service TEXT PRIMARY KEY,
    models TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );`,
];
