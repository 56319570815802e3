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
];
