import type { Db } from './database.js';

export interface AgentRecord {
  name: string;
  endpoint: string;
  models: string[];
  lastHeartbeatMs: number;
}

interface AgentRow {
  name: string;
  endpoint: string;
  models: string;
  last_heartbeat_ms: number;
}

/** The `agents` table: registrations that survive a router restart. */
export class AgentRepository {
  private readonly upsertStatement;
  private readonly heartbeatStatement;
  private readonly listStatement;
  private readonly removeStatement;

  constructor(db: Db) {
    this.upsertStatement = db.prepare(
      `INSERT INTO agents (name, endpoint, models, registered_at, last_heartbeat_ms)
       VALUES (@name, @endpoint, @models, @now, @lastHeartbeatMs)
       ON CONFLICT (name) DO UPDATE SET endpoint = excluded.endpoint, models = excluded.models,
         registered_at = excluded.registered_at, last_heartbeat_ms = excluded.last_heartbeat_ms`,
    );
    this.heartbeatStatement = db.prepare<[number, string]>('UPDATE agents SET last_heartbeat_ms = ? WHERE name = ?');
    this.listStatement = db.prepare<[], AgentRow>('SELECT name, endpoint, models, last_heartbeat_ms FROM agents ORDER BY name');
    this.removeStatement = db.prepare<[string]>('DELETE FROM agents WHERE name = ?');
  }

  upsert(agent: AgentRecord): void {
    this.upsertStatement.run({ ...agent, models: JSON.stringify(agent.models), now: new Date().toISOString() });
  }

  heartbeat(name: string, atMs: number): void {
    this.heartbeatStatement.run(atMs, name);
  }

  list(): AgentRecord[] {
    return this.listStatement.all().map((row) => ({
      name: row.name,
      endpoint: row.endpoint,
      models: JSON.parse(row.models) as string[],
      lastHeartbeatMs: row.last_heartbeat_ms,
    }));
  }

  remove(name: string): void {
    this.removeStatement.run(name);
  }
}
