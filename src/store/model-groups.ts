import type { Db } from './database.js';

export interface GroupTarget {
  model: string;
  service?: string;
  weight: number;
}

export interface ModelGroupRow {
  name: string;
  /** Absent: the model of that name itself. */
  targets: GroupTarget[] | null;
  fallbacks: string[];
  created_at: string;
  updated_at: string;
}

interface StoredRow {
  name: string;
  targets: string | null;
  fallbacks: string;
  created_at: string;
  updated_at: string;
}

/** The `model_groups` table: model groups and fallback chains added with `switchyard models add`. */
export class ModelGroupRepository {
  private readonly upsertStatement;
  private readonly listStatement;
  private readonly removeStatement;

  constructor(db: Db) {
    this.upsertStatement = db.prepare(
      `INSERT INTO model_groups (name, targets, fallbacks, created_at, updated_at) VALUES (@name, @targets, @fallbacks, @now, @now)
       ON CONFLICT (name) DO UPDATE SET targets = excluded.targets, fallbacks = excluded.fallbacks, updated_at = excluded.updated_at`,
    );
    this.listStatement = db.prepare<[], StoredRow>('SELECT * FROM model_groups ORDER BY name');
    this.removeStatement = db.prepare<[string]>('DELETE FROM model_groups WHERE name = ?');
  }

  upsert(name: string, group: { targets?: GroupTarget[]; fallbacks: string[] }): void {
    this.upsertStatement.run({
      name,
      targets: group.targets ? JSON.stringify(group.targets) : null,
      fallbacks: JSON.stringify(group.fallbacks),
      now: new Date().toISOString(),
    });
  }

  list(): ModelGroupRow[] {
    return this.listStatement.all().map((row) => ({
      ...row,
      targets: row.targets === null ? null : (JSON.parse(row.targets) as GroupTarget[]),
      fallbacks: JSON.parse(row.fallbacks) as string[],
    }));
  }

  /** True when a row was removed. */
  remove(name: string): boolean {
    return this.removeStatement.run(name).changes > 0;
  }
}
