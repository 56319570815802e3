import type { Db } from './database.js';

export interface ModelRow {
  name: string;
  type: string;
  endpoint: string;
  kind: 'api' | 'weight';
  upstream_model: string | null;
  weight: number | null;
  created_at: string;
  updated_at: string;
}

export type NewModel = Pick<ModelRow, 'name' | 'type' | 'endpoint' | 'kind'> & Partial<Pick<ModelRow, 'upstream_model' | 'weight'>>;

/** The `models` table: the model registry. */
export class ModelRepository {
  private readonly upsertStatement;
  private readonly listStatement;
  private readonly removeStatement;

  constructor(db: Db) {
    this.upsertStatement = db.prepare(
      `INSERT INTO models (name, type, endpoint, kind, upstream_model, weight, created_at, updated_at)
       VALUES (@name, @type, @endpoint, @kind, @upstream_model, @weight, @now, @now)
       ON CONFLICT (name) DO UPDATE SET type = excluded.type, endpoint = excluded.endpoint, kind = excluded.kind,
         upstream_model = excluded.upstream_model, weight = excluded.weight, updated_at = excluded.updated_at`,
    );
    this.listStatement = db.prepare<[], ModelRow>('SELECT * FROM models ORDER BY name');
    this.removeStatement = db.prepare<[string]>('DELETE FROM models WHERE name = ?');
  }

  upsert(model: NewModel): void {
    this.upsertStatement.run({ upstream_model: null, weight: null, ...model, now: new Date().toISOString() });
  }

  list(): ModelRow[] {
    return this.listStatement.all();
  }

  /** True when a row was removed. */
  remove(name: string): boolean {
    return this.removeStatement.run(name).changes > 0;
  }
}
