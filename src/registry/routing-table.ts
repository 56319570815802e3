import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { Fleet } from '../fleet/fleet.js';
import type { ModelGroups } from '../gateway/model-resolver.js';
import type { RouteSources } from '../gateway/resolve.js';
import { serviceAdapter } from '../providers/unsupported-params.js';
import { AgentRepository } from '../store/agents.js';
import { openDatabase, type Db } from '../store/database.js';
import { DiscoveredModelRepository } from '../store/discovered-models.js';
import { ModelGroupRepository } from '../store/model-groups.js';
import { ModelRepository } from '../store/models.js';
import { AgentRegistry } from './agent-registry.js';
import { rememberDiscoveredModels } from './discovered-models.js';
import { mergeModelGroups } from './model-groups.js';
import { ModelRegistry } from './model-registry.js';
import { ProviderTargets } from './provider-targets.js';

export interface RoutingTable extends RouteSources {
  db: Db;
  registry: ModelRegistry;
  agents: AgentRegistry;
  providers: ProviderTargets;
  /** The model groups requests are resolved through: YAML `model_groups` with the registry's (as of its last reload) on top. */
  modelGroups(): ModelGroups;
}

/**
 * Everything a model name can resolve to: configured services (with the models discovery last
 * found on them), the registry and stored agents from SQLite, and the providers. The server and `switchyard route` build it the same way.
 * The database is created unless `store.create` is false (see openDatabase).
 */
export function buildRoutingTable(config: Config, log: Logger, store: { create?: boolean } = {}): RoutingTable {
  const fleet = new Fleet(config.health_check.failure_threshold);
  for (const service of config.services) {
    fleet.add({ name: service.name, url: service.url, kind: 'service', models: service.models, apiKey: service.api_key, healthPath: service.health_path, adapter: serviceAdapter(service) });
  }
  const db = openDatabase(config.database_path, store);
  rememberDiscoveredModels(fleet, new DiscoveredModelRepository(db), log);
  const providers = new ProviderTargets(fleet, config.providers);
  const registry = new ModelRegistry(fleet, new ModelRepository(db), new ModelGroupRepository(db), config.providers);
  registry.reload();
  const agents = new AgentRegistry(fleet, new AgentRepository(db), { heartbeatTimeoutS: config.agents.heartbeat_timeout_s, forgetAfterS: config.agents.forget_after_s, maxAgents: config.agents.max_agents }, log);
  agents.restore();
  return { db, fleet, registry, agents, providers, modelGroups: () => mergeModelGroups(config.model_groups, registry.groups()) };
}
