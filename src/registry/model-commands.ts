import { providerAccess } from '../config/providers.js';
import type { Config } from '../config/schema.js';
import { Backend } from '../fleet/backend.js';
import type { Db } from '../store/database.js';
import { ModelRepository, type ModelRow } from '../store/models.js';
import { openAiPath } from '../upstream/paths.js';
import { InvalidModelEntry, validateModelEntry } from './model-entry.js';

/** The `switchyard models …` commands, working on the same database file as the server. */

export function addModel(db: Db, name: string, type: string, endpoint: string, kind?: string): ModelRow {
  const repository = new ModelRepository(db);
  repository.upsert(validateModelEntry(name, type, endpoint, kind));
  return repository.list().find((row) => row.name === name)!;
}

export function removeModel(db: Db, name: string): void {
  if (!new ModelRepository(db).remove(name)) throw new InvalidModelEntry(`no model named "${name}" in the registry`);
}

export function listModels(db: Db): ModelRow[] {
  return new ModelRepository(db).list();
}

export function formatModelTable(rows: readonly ModelRow[]): string {
  if (rows.length === 0) return 'no models registered';
  const header = ['NAME', 'TYPE', 'KIND', 'ENDPOINT', 'UPSTREAM', 'UPDATED'];
  const cells = rows.map((r) => [r.name, r.type, r.kind, r.endpoint, r.upstream_model ?? '-', r.updated_at]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells].map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Imports the model list of `OPENAI_BASE_URL` (read with `EXTERNAL_OPENAI_KEY`) as registry entries of type openai. */
export async function refreshOpenAiModels(db: Db, providers: Config['providers']): Promise<string[]> {
  const { baseUrl, apiKey, missingKey } = providerAccess(providers, 'openai');
  if (missingKey) throw new InvalidModelEntry(`cannot list OpenAI models: set ${missingKey}`);
  const source = new Backend({ name: 'openai', url: baseUrl!, kind: 'provider' });
  const url = source.origin + openAiPath(source, '/models');
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new InvalidModelEntry(`cannot reach ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new InvalidModelEntry(`${url} answered ${response.status}`);
  const listing = (await response.json().catch(() => undefined)) as { data?: Array<{ id?: unknown }> } | undefined;
  if (!Array.isArray(listing?.data)) throw new InvalidModelEntry(`${url} did not return an OpenAI model list`);
  const ids = listing.data.map((m) => m.id).filter((id): id is string => typeof id === 'string' && id !== '');
  const repository = new ModelRepository(db);
  db.transaction(() => {
    for (const id of ids) repository.upsert({ name: id, type: 'openai', endpoint: baseUrl!, kind: 'api' });
  })();
  return ids;
}
