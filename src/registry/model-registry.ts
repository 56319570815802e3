import { providerAccess, providerBaseUrl, type ProviderName } from '../config/providers.js';
import type { Config } from '../config/schema.js';
import type { Fleet } from '../fleet/fleet.js';
import type { Route } from '../gateway/resolve.js';
import { OPENAI_COMPATIBLE_TARGET } from '../providers/by-name.js';
import { providerAdapter } from '../providers/unsupported-params.js';
import { ApiError, providerKeyMissing } from '../server/errors.js';
import type { ModelGroupRepository, ModelGroupRow } from '../store/model-groups.js';
import type { ModelRepository, ModelRow } from '../store/models.js';
import { InvalidModelEntry, validateModelEntry, type ModelType } from './model-entry.js';

/**
 * The model registry as the router routes it: each row becomes a backend named `registry:NAME`
 * serving exactly that model. `reload` applies the table's current contents, so rows added or
 * removed by the CLI take effect in a running router. Its model groups (weighted targets and
 * fallback chains) are read on each reload for the gateway's model resolver.
 */
export class ModelRegistry {
  private readonly routes = new Map<string, Route>();
  /** The row each route was built from, to rebuild only what changed. */
  private readonly built = new Map<string, string>();
  private groupRows: ModelGroupRow[] = [];

  constructor(
    private readonly fleet: Fleet,
    private readonly repository: ModelRepository,
    private readonly groupRepository: ModelGroupRepository,
    private readonly settings: Config['providers'],
  ) {}

  route(model: string): Route | undefined {
    return this.routes.get(model);
  }

  /** The registry's model groups as of the last reload. */
  groups(): readonly ModelGroupRow[] {
    return this.groupRows;
  }

  /** Applies the tables' rows; returns the model names added, changed and removed. */
  reload(): { changed: string[]; removed: string[] } {
    this.groupRows = this.groupRepository.list();
    const rows = this.repository.list();
    const changed: string[] = [];
    const present = new Set<string>();
    for (const row of rows) {
      present.add(row.name);
      const signature = JSON.stringify([row.type, row.endpoint, row.kind, row.upstream_model]);
      if (this.built.get(row.name) === signature) continue;
      this.fleet.remove(backendName(row.name));
      this.routes.set(row.name, this.build(row));
      this.built.set(row.name, signature);
      changed.push(row.name);
    }
    const removed = [...this.routes.keys()].filter((name) => !present.has(name));
    for (const name of removed) {
      this.fleet.remove(backendName(name));
      this.routes.delete(name);
      this.built.delete(name);
    }
    return { changed, removed };
  }

  private build(row: ModelRow): Route {
    const reason = `registry entry '${row.name}' (type ${row.type}, ${row.kind}, ${row.endpoint})`;
    // Rows written by something other than the CLI may be invalid: such an entry answers 503, it does not stop the router.
    try {
      validateModelEntry(row.name, row.type, row.endpoint, row.kind);
    } catch (error) {
      if (!(error instanceof InvalidModelEntry)) throw error;
      return { error: new ApiError(503, `The registry entry '${row.name}' is invalid: ${error.message}`, 'service_unavailable', 'invalid_registry_entry'), reason };
    }
    const type = row.type as ModelType;
    const provider: ProviderName | undefined = type === 'service' ? undefined : type;
    const access = provider ? providerAccess(this.settings, provider) : undefined;
    if (provider && access?.missingKey) return { error: providerKeyMissing(provider, access.missingKey), reason };
    const upstreamModel = row.upstream_model;
    const backend = this.fleet.add({
      name: backendName(row.name),
      url: provider ? providerBaseUrl(provider, row.endpoint) : row.endpoint,
      kind: 'registry',
      models: [row.name],
      apiKey: access?.apiKey,
      adapter: provider ? providerAdapter(provider, this.settings[provider]) : OPENAI_COMPATIBLE_TARGET,
      upstreamModel: upstreamModel ? () => upstreamModel : undefined,
    });
    this.fleet.setHealth(backend, true);
    return { backends: [backend], reason };
  }
}

const backendName = (model: string) => `registry:${model}`;
