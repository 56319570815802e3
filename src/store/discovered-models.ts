import type { Db } from './database.js';

/** The `discovered_models` table: each discovering service's last reported model list. */
export class DiscoveredModelRepository {
  private readonly saveStatement;
  private readonly listStatement;

  constructor(db: Db) {
    this.saveStatement = db.prepare(
      `INSERT INTO discovered_models (service, models, updated_at) VALUES (@service, @models, @now)
       ON CONFLICT (service) DO UPDATE SET models = excluded.models, updated_at = excluded.updated_at`,
    );
    this.listStatement = db.prepare<[], { service: string; models: string }>('SELECT service, models FROM discovered_models');
  }

  save(service: string, models: readonly string[]): void {
    this.saveStatement.run({ service, models: JSON.stringify(models), now: new Date().toISOString() });
  }

  /** Service name → its last discovered models. */
  list(): Map<string, string[]> {
    return new Map(this.listStatement.all().map((row) => [row.service, JSON.parse(row.models) as string[]]));
  }
}
