import { PROVIDERS, providerAccess, type ProviderName } from '../config/providers.js';
import type { Config } from '../config/schema.js';
import type { Fleet } from '../fleet/fleet.js';
import { withoutRoutingHint } from '../gateway/prefix-rules.js';
import type { Route } from '../gateway/resolve.js';
import { providerAdapter } from '../providers/unsupported-params.js';
import { providerKeyMissing } from '../server/errors.js';

/**
 * One backend per available provider, for models that reach it by prefix rule. A provider
 * without its key gets no backend: its route answers 503 naming the variable to set.
 */
export class ProviderTargets {
  private readonly routes = new Map<ProviderName, Route>();
  /** Providers that need a key and have none, with the variable to set. */
  readonly missingKeys: Array<{ provider: ProviderName; variable: string }> = [];

  constructor(fleet: Fleet, settings: Config['providers']) {
    for (const { name } of PROVIDERS) {
      const { baseUrl, apiKey, missingKey } = providerAccess(settings, name);
      if (baseUrl === undefined) continue;
      const reason = `prefix rule for provider '${name}' (${baseUrl})`;
      if (missingKey) {
        this.missingKeys.push({ provider: name, variable: missingKey });
        this.routes.set(name, { error: providerKeyMissing(name, missingKey), reason });
        continue;
      }
      const backend = fleet.add({
        name: `provider:${name}`,
        url: baseUrl,
        kind: 'provider',
        models: [],
        apiKey,
        adapter: providerAdapter(name),
        upstreamModel: (model) => withoutRoutingHint(name, model),
      });
      fleet.setHealth(backend, true);
      this.routes.set(name, { backends: [backend], reason });
    }
  }

  route(provider: ProviderName): Route | undefined {
    return this.routes.get(provider);
  }
}
