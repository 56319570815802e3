import { existsSync } from 'node:fs';
import type { Db } from './database.js';

interface ReplacedModel {
  name: string;
  type: string;
  endpoint: string;
  kind: string;
}

interface ReplacedAgent {
  name: string;
  endpoint: string;
  models: string;
  last_heartbeat: number | null;
}

/**
 * The provider router Switchyard replaces kept its registry in the same file (SQLITE_DB_PATH,
 * default data/models.db), with tables of its own under the same names and no schema version:
 * `models` (id, name, type, endpoint, and `kind` in later versions) and `agents` (id, name,
 * endpoint, models as comma-separated text, last_heartbeat in epoch seconds). Such a file would
 * stop Switchyard at its first migration; instead its rows are carried over, once.
 * True when the file was one of those (it is then at the first migration's version).
 */
export function adoptReplacedRouterDatabase(db: Db, path: string, firstMigration: string): boolean {
  if ((db.pragma('user_version', { simple: true }) as number) !== 0) return false;
  const modelColumns = columnsOf(db, 'models');
  if (modelColumns.size === 0 || modelColumns.has('created_at')) return false;
  // A copy as it was, for going back to the replaced router (VACUUM INTO writes a consistent one).
  const backup = `${path}.before-switchyard`;
  if (path !== ':memory:' && !existsSync(backup)) db.prepare('VACUUM INTO ?').run(backup);
  db.transaction(() => {
    const kind = modelColumns.has('kind') ? 'kind' : "'api'";
    const models = db.prepare<[], ReplacedModel>(`SELECT name, type, endpoint, ${kind} AS kind FROM models`).all();
    const agentColumns = columnsOf(db, 'agents');
    const heartbeat = agentColumns.has('last_heartbeat') ? 'last_heartbeat' : 'NULL';
    const agents = agentColumns.size === 0 ? [] : db.prepare<[], ReplacedAgent>(`SELECT name, endpoint, models, ${heartbeat} AS last_heartbeat FROM agents`).all();
    db.exec('DROP TABLE models; DROP TABLE IF EXISTS agents;');
    db.exec(firstMigration);
    db.pragma('user_version = 1');
    const now = new Date().toISOString();
    const insertModel = db.prepare(`INSERT OR REPLACE INTO models (name, type, endpoint, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`);
    // Kinds it did not know would fail the new table's check; 'api' is its default.
    for (const m of models) insertModel.run(m.name, m.type, m.endpoint, m.kind === 'weight' ? 'weight' : 'api', now, now);
    const insertAgent = db.prepare(`INSERT OR REPLACE INTO agents (name, endpoint, models, registered_at, last_heartbeat_ms) VALUES (?, ?, ?, ?, ?)`);
    for (const a of agents) {
      const served = String(a.models ?? '').split(',').map((model) => model.trim()).filter(Boolean);
      insertAgent.run(a.name, a.endpoint, JSON.stringify(served), now, Math.round((a.last_heartbeat ?? 0) * 1000));
    }
  })();
  return true;
}

function columnsOf(db: Db, table: string): Set<string> {
  return new Set(db.prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)').all(table).map((column) => column.name));
}
