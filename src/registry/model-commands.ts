import { providerAccess } from '../config/providers.js';
import type { Config } from '../config/schema.js';
import { Backend } from '../fleet/backend.js';
import { OPENAI_COMPATIBLE_TARGET } from '../providers/by-name.js';
import type { Db } from '../store/database.js';
import { ModelGroupRepository, type GroupTarget } from '../store/model-groups.js';
import { ModelRepository, type ModelRow, type NewModel } from '../store/models.js';
import { fetchFailureReason } from '../upstream/fetch-failure.js';
import { openAiPath } from '../upstream/paths.js';
import { InvalidModelEntry, validateModelEntry, validateModelName } from './model-entry.js';
import { formatTargets, parseFallbacks, parseTargetSpec } from './model-groups.js';

/** The `switchyard models …` commands, working on the same database file as the server. */

export interface GroupOptions {
  /** `MODEL[@SERVICE][:WEIGHT]` specs. */
  target?: string[];
  /** Comma-separated model names. */
  fallbacks?: string;
}

/** One registry name as `models list` shows it: a model entry, a group, or a model entry with fallbacks. */
export interface RegistryListing {
  name: string;
  /** `group` when the name has targets but no endpoint of its own. */
  type: string;
  endpoint: string | null;
  kind: ModelRow['kind'] | null;
  upstream_model: string | null;
  weight: number | null;
  targets: GroupTarget[] | null;
  fallbacks: string[];
  created_at: string;
  updated_at: string;
}

/**
 * Adds or replaces the entry NAME whole: a model at TYPE ENDPOINT or a group of `--target`s (not
 * both), either with `--fallbacks`. Whatever NAME was before is replaced, in one transaction.
 */
export function addModel(db: Db, name: string, type: string | undefined, endpoint: string | undefined, kind: string | undefined, group: GroupOptions = {}): RegistryListing {
  validateModelName(name);
  const targets = group.target?.length ? group.target.map(parseTargetSpec) : undefined;
  const fallbacks = group.fallbacks !== undefined ? parseFallbacks(name, group.fallbacks) : [];
  for (const model of [...(targets ?? []).map((target) => target.model), ...fallbacks]) validateModelName(model);
  if (type !== undefined && endpoint === undefined) throw new InvalidModelEntry(`an ENDPOINT is required after the type "${type}"`);
  const model = type !== undefined ? validateModelEntry(name, type, endpoint!, kind) : undefined;
  if (!model && !targets) throw new InvalidModelEntry('give TYPE and ENDPOINT, or at least one --target MODEL[@SERVICE][:WEIGHT]');
  // Both were stored, and requests went to the targets: the endpoint (the one `added` named) would never be used.
  if (model && targets) throw new InvalidModelEntry('give TYPE and ENDPOINT, or --target MODEL[@SERVICE][:WEIGHT], not both: a name is either a model at an endpoint or a group of targets');
  replaceEntry(db, name, model, targets, fallbacks);
  return listModels(db).find((entry) => entry.name === name)!;
}

/** Makes NAME exactly this model entry and/or group, whatever it was before, in one transaction. */
function replaceEntry(db: Db, name: string, model: NewModel | undefined, targets: GroupTarget[] | undefined, fallbacks: string[]): void {
  const models = new ModelRepository(db);
  const groups = new ModelGroupRepository(db);
  db.transaction(() => {
    if (model) models.upsert(model);
    else models.remove(name);
    if (targets || fallbacks.length > 0) groups.upsert(name, { targets, fallbacks });
    else groups.remove(name);
  })();
}

export function removeModel(db: Db, name: string): void {
  const removed = db.transaction(() => [new ModelRepository(db).remove(name), new ModelGroupRepository(db).remove(name)].some(Boolean))();
  if (!removed) throw new InvalidModelEntry(`no model named "${name}" in the registry`);
}

export function listModels(db: Db): RegistryListing[] {
  const groups = new Map(new ModelGroupRepository(db).list().map((row) => [row.name, row]));
  const listings: RegistryListing[] = new ModelRepository(db).list().map((row) => {
    const group = groups.get(row.name);
    groups.delete(row.name);
    return { ...row, targets: group?.targets ?? null, fallbacks: group?.fallbacks ?? [] };
  });
  for (const group of groups.values()) {
    listings.push({ ...group, type: 'group', endpoint: null, kind: null, upstream_model: null, weight: null });
  }
  return listings.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function formatModelTable(rows: readonly RegistryListing[]): string {
  if (rows.length === 0) return 'no models registered';
  const header = ['NAME', 'TYPE', 'KIND', 'ENDPOINT', 'UPSTREAM', 'TARGETS', 'FALLBACKS', 'UPDATED'];
  const cells = rows.map((r) => [
    r.name,
    r.type,
    r.kind ?? '-',
    r.endpoint ?? '-',
    r.upstream_model ?? '-',
    r.targets ? formatTargets(r.targets) : '-',
    r.fallbacks.length > 0 ? r.fallbacks.join(',') : '-',
    r.updated_at,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  return [header, ...cells].map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** What `models refresh-openai` did: the names written, and those left alone because they point elsewhere. */
export interface OpenAiRefresh {
  imported: string[];
  kept: RegistryListing[];
}

/**
 * Imports the model list of `OPENAI_BASE_URL` (read with `EXTERNAL_OPENAI_KEY`) as registry entries
 * of type openai. A name already registered as something else (`gpt-4o` through OpenRouter, a group)
 * was put there deliberately, so it is kept unless `force`, which replaces it whole as `models add`
 * would; entries that already point at this OpenAI endpoint are refreshed.
 */
export async function refreshOpenAiModels(db: Db, providers: Config['providers'], { force = false } = {}): Promise<OpenAiRefresh> {
  const { baseUrl, apiKey, missingKey } = providerAccess(providers, 'openai');
  if (missingKey) throw new InvalidModelEntry(`cannot list OpenAI models: set ${missingKey}`);
  // Spellings of one API root (`http://h` and `http://h/v1/` mean `http://h/v1`, as requests take them) are one place, not "elsewhere".
  const apiRoot = (endpoint: string) => {
    if (!URL.canParse(endpoint)) return endpoint;
    const target = new Backend({ name: 'openai', url: endpoint, kind: 'provider', adapter: OPENAI_COMPATIBLE_TARGET });
    return target.origin + openAiPath(target, '');
  };
  const sourceRoot = apiRoot(baseUrl!);
  const url = `${sourceRoot}/models`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new InvalidModelEntry(`cannot reach ${url}: ${fetchFailureReason(error)}`);
  }
  if (!response.ok) throw new InvalidModelEntry(`${url} answered ${response.status}`);
  const listing = (await response.json().catch(() => undefined)) as { data?: Array<{ id?: unknown }> } | undefined;
  if (!Array.isArray(listing?.data)) throw new InvalidModelEntry(`${url} did not return an OpenAI model list`);
  const ids = listing.data.map((m) => m.id).filter((id): id is string => typeof id === 'string' && id !== '');
  const existing = new Map(listModels(db).map((entry) => [entry.name, entry]));
  const repository = new ModelRepository(db);
  const result: OpenAiRefresh = { imported: [], kept: [] };
  db.transaction(() => {
    for (const id of ids) {
      const entry = existing.get(id);
      const model: NewModel = { name: id, type: 'openai', endpoint: baseUrl!, kind: 'api' };
      if (!entry || (entry.type === 'openai' && entry.endpoint !== null && apiRoot(entry.endpoint) === sourceRoot)) repository.upsert(model);
      else if (force) replaceEntry(db, id, model, undefined, []);
      else {
        result.kept.push(entry);
        continue;
      }
      result.imported.push(id);
    }
  })();
  return result;
}

/** `models refresh-openai`'s report: how many were imported, and which existing entries were left alone. */
export function formatOpenAiRefresh({ imported, kept }: OpenAiRefresh): string {
  const lines = [`imported ${imported.length} OpenAI models`];
  if (kept.length > 0) {
    lines.push(`kept ${kept.length} existing entries that point elsewhere (--force replaces them):`);
    for (const entry of kept) lines.push(`  ${entry.name}: ${entry.endpoint ? `${entry.type} ${entry.endpoint}` : `group → ${formatTargets(entry.targets ?? [])}`}`);
  }
  return lines.join('\n');
}
