import type { Logger } from 'pino';
import type { Fleet } from '../fleet/fleet.js';
import type { DiscoveredModelRepository } from '../store/discovered-models.js';

/**
 * Keeps the model lists that services without a configured `models:` list report, across
 * restarts: the fleet starts with each one's last stored list, and every change discovery makes
 * is stored. Without it a router started while such an engine is down would not know its models,
 * and a prefix rule (`gpt-*` for `gpt-oss-20b`) would send their prompts to a hosted provider.
 */
export function rememberDiscoveredModels(fleet: Fleet, repository: DiscoveredModelRepository, log: Logger): void {
  const stored = repository.list();
  for (const backend of fleet.list()) {
    const models = stored.get(backend.name);
    if (!backend.discoverModels || !models) continue;
    fleet.setModels(backend, models);
    log.debug({ backend: backend.name, models }, 'known models from the last discovery, until the service answers');
  }
  fleet.on('models', (backend) => {
    if (backend.discoverModels) repository.save(backend.name, [...backend.models]);
  });
}
